"""Quick replies: 2 to 4 likely next questions under an answer, chosen from the answer and profile.

A small rule set until the dialogue component fills ``Answer.quick_replies`` itself. Each reply is
a question the current understanding reads correctly (« Et à distance ? » sets the format, « Et
pour moins de 1 000 € ? » a budget, « Et dans le Nord ? » a département), so a click on it gives a
real refinement, not a generic search.
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
#: Round budgets, to suggest one just under the dearest training shown.
_BUDGETS = (100, 200, 300, 500, 800, 1000, 1500, 2000, 3000, 5000, 8000)


def _euros(value: int) -> str:
    return f"{value:,}".replace(",", "\u202f") + "\u00a0€"


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
    prices = [t.price_eur for t in answer.trainings if t.price_eur > 0]
    if prices:
        under = [b for b in _BUDGETS if b < max(prices)]
        if under and (profile.max_price is None or under[-1] < profile.max_price):
            replies.append(f"Et pour moins de {_euros(under[-1])}\u202f?")
        elif profile.max_price != 0:
            replies.append("Et des formations gratuites\u202f?")
    if answer.trainings and profile.format != "distanciel":
        replies.append("Et à distance\u202f?")
    if answer.trainings and profile.department in _NEIGHBOUR:
        replies.append(f"Et dans {_NEIGHBOUR[profile.department]}\u202f?")
    if answer.certifications and profile.certifying is None:
        replies.append("Voir les certifications")
    if profile.audience == "eleve":
        replies.insert(0, "Et expliqué plus simplement\u202f?")
    if not answer.trainings:
        replies.append("Et quelles formations pour moi\u202f?" if profile.role else "Quelles formations à l’IA en Hauts-de-France\u202f?")
    if len(replies) < 2:
        replies.append("Comment financer une formation\u202f?")
    return list(dict.fromkeys(replies))[:MAX_REPLIES]
