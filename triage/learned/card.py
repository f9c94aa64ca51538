"""The model card as people read it (`triage learn`, `triage check`)."""

from __future__ import annotations

from typing import Any


def render_card(card: dict[str, Any], min_probability: float | None = None) -> str:
    held = card["held_out"]
    lines = [
        f"model {card['card_id']} (trained {card['created_at']}, {card['features']} features)",
        f"  data: {card['rows']} rows from {', '.join(card['sources']) or '(store)'}; "
        f"sha256 {card['data_sha256'][:16]}",
    ]
    skipped = card.get("skipped_rows") or {}
    if skipped:
        lines.append(
            "  skipped rows: " + ", ".join(f"{n} {reason}" for reason, n in skipped.items())
        )
    folded = card.get("folded_into_fallback") or {}
    if folded:
        fate = (
            f"folded into {card['fallback_label']!r}, which never decides"
            if card.get("fallback_label")
            else "left out (too few even together)"
        )
        shown = ", ".join(f"{label} ({n})" for label, n in list(folded.items())[:12])
        more = f" and {len(folded) - 12} more" if len(folded) > 12 else ""
        lines.append(f"  rare teams {fate}: {shown}{more}")
    lines.append(f"  {card['estimator']}; {card['calibration']} (T={card['temperature']:.3f})")
    lines.append(
        f"  held out: {held['rows']} rows"
        + (" (the newest)" if held.get("split") == "newest rows" else "")
        + f", accuracy {held['accuracy']:.1%}, "
        f"calibration error {held['expected_calibration_error']:.3f}"
    )
    at = held["at_min_probability"]
    lines.append(
        f"  at min_probability {at['threshold']}: decides {at['coverage']:.0%} of tickets, "
        f"{at['accuracy']:.1%} of them right"
    )
    suggested = held["suggested_min_probability"]
    lines.append(
        f"  suggested min_probability {suggested['threshold']} (decided share "
        f"{suggested['accuracy']:.1%} right, coverage {suggested['coverage']:.0%})"
    )
    if min_probability is not None and abs(min_probability - at["threshold"]) > 1e-9:
        lines.append(f"  configured min_probability: {min_probability}")
    counts = {item["label"]: item["count"] for item in card["labels"]}
    lines.append(f"  {'team':<32} {'tickets':>8} {'precision':>10} {'recall':>8}")
    for score in held["per_label"]:
        lines.append(
            f"  {score['label'][:32]:<32} {counts.get(score['label'], 0):>8} "
            f"{score['precision']:>10.1%} {score['recall']:>8.1%}"
        )
    return "\n".join(lines)
