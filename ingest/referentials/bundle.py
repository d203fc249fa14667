"""Copy what Orientia needs from official releases into ``knowledge/referentials/``.

    python -m ingest.referentials.bundle --rome DIR --rncp DIR --cog FILE --out knowledge/referentials

Files are copied in their official format so that the importers read the bundled copy exactly as
they would read the next release: ROME tables verbatim; France compétences CSV files filtered to
the fiches in scope (:data:`ingest.referentials.rncp.SCOPE`), each kept line byte for byte (the
tab before the SIRET, the quoting, the empty fields); the COG communes file verbatim.
"""

from __future__ import annotations

import argparse
import csv
import io
import shutil
from pathlib import Path

from ._files import Bundle, decode
from .rncp import RncpExport, in_scope, load_rncp_csv, rncp_file_kind
from .rome import ROME_TABLES, _pattern

__all__ = ["bundle_rncp", "bundle_rome", "main"]


def bundle_rome(source: Path, out: Path) -> list[str]:
    """Copy the ROME tables the importer reads; returns their names."""
    out.mkdir(parents=True, exist_ok=True)
    bundle = Bundle(source, source.name)
    copied = []
    for table in ROME_TABLES:
        name = bundle.find(_pattern(table))
        if name is None:
            raise SystemExit(f"missing ROME table {table} in {source}")
        (out / name.rsplit("/", 1)[-1]).write_bytes(bundle.read(name))
        copied.append(name)
    return copied


def _kept_lines(raw: str, keep: set[str]) -> str:
    """The header and the records whose first field is a kept fiche, byte for byte."""
    lines = raw.splitlines(keepends=True)
    reader = csv.reader(io.StringIO(raw, newline=""), delimiter=";")
    out = [lines[0]]
    next(reader)
    start = 1
    for row in reader:
        end = reader.line_num
        if row and row[0].strip() in keep:
            out.extend(lines[start:end])
        start = end
    return "".join(out)


def bundle_rncp(source: Path, out: Path) -> set[str]:
    """Filter the France compétences CSV files to the fiches in scope; returns the kept codes."""
    out.mkdir(parents=True, exist_ok=True)
    files = {}
    for path in sorted(source.glob("*.csv")):
        raw = decode(path.read_bytes())
        kind = rncp_file_kind([h.strip('"') for h in raw.split("\n", 1)[0].strip("\r").split(";")])
        if kind:
            files[path] = (kind, raw)
    export = RncpExport()
    for path, (kind, raw) in files.items():
        if kind == "blocs":
            load_rncp_csv(export, kind, raw, file=path.name)
    keep = {
        code for code, fiche in export.fiches.items()
        if in_scope(code, [b.title for b in fiche.blocs.values()])
    }
    for path, (_, raw) in files.items():
        (out / path.name).write_text(_kept_lines(raw, keep), encoding="utf-8", newline="")
    return keep


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rome", type=Path)
    parser.add_argument("--rncp", type=Path)
    parser.add_argument("--cog", type=Path, help="the COG communes CSV file")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.rome:
        rome_out = args.out / args.rome.name
        print(f"ROME: {len(bundle_rome(args.rome, rome_out))} tables -> {rome_out}")
    if args.rncp:
        rncp_out = args.out / args.rncp.name
        print(f"RNCP: {len(bundle_rncp(args.rncp, rncp_out))} fiches in scope -> {rncp_out}")
    if args.cog:
        cog_out = args.out / args.cog.parent.name
        cog_out.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(args.cog, cog_out / args.cog.name)
        print(f"COG: {args.cog.name} -> {cog_out}")


if __name__ == "__main__":
    main()
