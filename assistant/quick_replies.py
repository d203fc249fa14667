"""Quick replies: 2 to 4 likely next questions under an answer, chosen from the answer and profile.

Chosen from what the dialogue state understood (the profile) and what the answer showed. Each
reply is a question the understanding reads as an explicit change (« Moins cher ? » lowers the
budget under the cheapest training shown, « Et à distance ? » sets the format, « Et dans le
Nord ? » replaces the département), so a click on it gives a real refinement.
"""

from __future__ import annotations

from .models import Answer, Profile

__all__ = ["suggest"]

MAX_REPLIES = 4

#: A neighbouring département to suggest, with its name as a French phrase after « dans ».
_NEIGHBOUR = {
    "59": "le Pas-de-Calais",
    "62": "le Nord",
    "80": "l’Oise",
    "60": "la Somme",
    "02": "le Nord",
}
#: A pupil's first questions: about AI, the jobs it changes and the studies that lead to it.
_PUPIL_STARTERS = (
    "C’est quoi l’IA\u202f?",
    "L’IA va-t-elle remplacer des métiers\u202f?",
    "Quelles études pour travailler dans l’IA\u202f?",
)


def suggest(profile: Profile, answer: Answer) -> list[str]:
    """The next questions to offer as buttons (2 to 4, in French).

    Args:
        profile: what Orientia understood of the person so far.
        answer: the answer just given.

    Returns:
        Short questions, most useful first.
    """
    if not answer.answered:
        return [
            "Quelles formations à l’IA en Hauts-de-France\u202f?",
            "C’est quoi l’IA générative\u202f?",
            "Comment financer une formation\u202f?",
        ]
    replies: list[str] = []
    # Relative changes are read against what was just shown (« moins cher » = cheaper than
    # the cheapest training of this answer), so they fit any answer with trainings.
    if any(t.price_eur > 0 for t in answer.trainings) and min(t.price_eur for t in answer.trainings) > 0:
        replies.append("Moins cher\u202f?")
    elif any(t.price_eur > 0 for t in answer.trainings) and profile.max_price != 0:
        replies.append("Et des formations gratuites\u202f?")
    if answer.trainings and min(t.duration_hours for t in answer.trainings) > 7:
        replies.append("Plus court\u202f?")
    if answer.trainings and profile.format != "distanciel":
        replies.append("Et à distance\u202f?")
    if answer.trainings and profile.department in _NEIGHBOUR:
        replies.append(f"Et dans {_NEIGHBOUR[profile.department]}\u202f?")
    if answer.certifications and profile.certifying is None:
        replies.append("Voir les certifications")
    if profile.audience == "eleve" and not (answer.citations or answer.trainings):
        # A welcome: nothing explained yet, so nothing to explain more simply; what pupils ask.
        replies.extend(_PUPIL_STARTERS)
    elif profile.audience == "eleve":
        replies.insert(0, "Et expliqué plus simplement\u202f?")
    if not answer.trainings and not set(_PUPIL_STARTERS) & set(replies):
        replies.append("Et quelles formations pour moi\u202f?" if profile.role else "Quelles formations à l’IA en Hauts-de-France\u202f?")
    if len(replies) < 2:
        replies.append("Comment financer une formation\u202f?")
    return list(dict.fromkeys(replies))[:MAX_REPLIES]
