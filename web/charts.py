"""Charts drawn on the server as SVG: no script, no asset to install, readable in a screenshot and by a screen
reader (each chart has a title and every bar or point a tooltip). Values are integers (minor units or counts);
`label` turns one into text for the axis and tooltips."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from markupsafe import Markup, escape

PALETTE = ("#2f6fde", "#e0803a", "#3a9d5d", "#c2414b", "#7d5bbe", "#8a8f98")
Label = Callable[[int], str]


def _plain(value: int) -> str:
    return f"{value:,}"


def _nice_top(value: int) -> int:
    """The axis top: the next 1, 2 or 5 times a power of ten at or above `value`."""
    if value <= 0:
        return 1
    step = 1
    while step * 10 <= value:
        step *= 10
    for factor in (1, 2, 5, 10):
        if factor * step >= value:
            return factor * step
    return 10 * step


def _frame(title: str, width: int, height: int, body: list[str]) -> Markup:
    return Markup(
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="100%" '
        f'preserveAspectRatio="xMidYMid meet" aria-label="{escape(title)}"><title>{escape(title)}</title>'
        + "".join(body)
        + "</svg>"
    )


def _axis(top: int, left: int, right: int, plot_top: int, plot_bottom: int, label: Label) -> list[str]:
    parts = []
    for fraction in (0, 0.5, 1):
        y = plot_bottom - (plot_bottom - plot_top) * fraction
        parts.append(f'<line x1="{left}" x2="{right}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>')
        parts.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" class="tick">{escape(label(int(top * fraction)))}</text>'
        )
    return parts


def bars(
    title: str, items: Sequence[tuple[str, int]], label: Label = _plain, width: int = 560, height: int = 240
) -> Markup:
    """One bar per item (a category and its value)."""
    if not items:
        return empty(title)
    left, right, plot_top, plot_bottom = 86, width - 10, 16, height - 46
    top = _nice_top(max(value for _, value in items))
    slot = (right - left) / len(items)
    body = _axis(top, left, right, plot_top, plot_bottom, label)
    for n, (name, value) in enumerate(items):
        bar_height = (plot_bottom - plot_top) * max(value, 0) / top
        x = left + n * slot + slot * 0.15
        body.append(
            f'<rect x="{x:.1f}" y="{plot_bottom - bar_height:.1f}" width="{slot * 0.7:.1f}" height="{bar_height:.1f}" '
            f'fill="{PALETTE[n % len(PALETTE)]}"><title>{escape(name)}: {escape(label(value))}</title></rect>'
        )
        body.append(
            f'<text x="{x + slot * 0.35:.1f}" y="{plot_bottom + 16}" text-anchor="middle" class="tick">'
            f"{escape(_short(name, int(slot / 7)))}</text>"
        )
    return _frame(title, width, height, body)


def grouped(
    title: str,
    categories: Sequence[str],
    series: Sequence[tuple[str, Sequence[int]]],
    label: Label = _plain,
    width: int = 720,
    height: int = 260,
) -> Markup:
    """Several series side by side per category (issued and repaid per day), with a legend."""
    if not categories or not series:
        return empty(title)
    left, right, plot_top, plot_bottom = 86, width - 10, 28, height - 40
    top = _nice_top(max((max(values, default=0) for _, values in series), default=0))
    slot = (right - left) / len(categories)
    each = slot * 0.8 / len(series)
    body = _axis(top, left, right, plot_top, plot_bottom, label)
    for s, (name, _) in enumerate(series):
        body.append(f'<rect x="{left + s * 130}" y="6" width="12" height="12" fill="{PALETTE[s]}"/>')
        body.append(f'<text x="{left + s * 130 + 16}" y="16" class="legend">{escape(name)}</text>')
    every = max(1, len(categories) // 10)
    for c, category in enumerate(categories):
        for s, (name, values) in enumerate(series):
            value = values[c]
            bar_height = (plot_bottom - plot_top) * max(value, 0) / top
            x = left + c * slot + slot * 0.1 + s * each
            body.append(
                f'<rect x="{x:.1f}" y="{plot_bottom - bar_height:.1f}" width="{max(each - 1, 1):.1f}" '
                f'height="{bar_height:.1f}" fill="{PALETTE[s]}"><title>{escape(category)} {escape(name)}: '
                f"{escape(label(value))}</title></rect>"
            )
        if c % every == 0:
            body.append(
                f'<text x="{left + c * slot + slot / 2:.1f}" y="{plot_bottom + 16}" text-anchor="middle" '
                f'class="tick">{escape(category[-5:])}</text>'
            )
    return _frame(title, width, height, body)


def line(
    title: str,
    categories: Sequence[str],
    series: Sequence[tuple[str, Sequence[int]]],
    label: Label = _plain,
    width: int = 720,
    height: int = 240,
) -> Markup:
    """Series over time as lines (a loan's balances and accruals by day)."""
    if len(categories) < 2 or not series:
        return empty(title)
    left, right, plot_top, plot_bottom = 86, width - 10, 28, height - 40
    top = _nice_top(max((max(values, default=0) for _, values in series), default=0))
    step = (right - left) / (len(categories) - 1)
    body = _axis(top, left, right, plot_top, plot_bottom, label)
    for s, (name, values) in enumerate(series):
        points = " ".join(
            f"{left + n * step:.1f},{plot_bottom - (plot_bottom - plot_top) * max(v, 0) / top:.1f}"
            for n, v in enumerate(values)
        )
        body.append(f'<polyline points="{points}" fill="none" stroke="{PALETTE[s]}" stroke-width="2"/>')
        body.append(f'<rect x="{left + s * 150}" y="6" width="12" height="12" fill="{PALETTE[s]}"/>')
        body.append(f'<text x="{left + s * 150 + 16}" y="16" class="legend">{escape(name)}</text>')
    every = max(1, len(categories) // 8)
    for n, category in enumerate(categories):
        if n % every == 0:
            body.append(
                f'<text x="{left + n * step:.1f}" y="{plot_bottom + 16}" text-anchor="middle" class="tick">'
                f"{escape(category[-5:])}</text>"
            )
    return _frame(title, width, height, body)


def funnel(title: str, stages: Sequence[tuple[str, int]], width: int = 560, height: int = 200) -> Markup:
    """Each stage as a bar as wide as its count, with the conversion from the stage before and from the first."""
    if not stages or stages[0][1] == 0:
        return empty(title)
    first = stages[0][1]
    row = (height - 10) / len(stages)
    body = []
    previous = first
    for n, (name, count) in enumerate(stages):
        bar = (width - 260) * count / first
        y = 5 + n * row
        step = f"{count / previous:.0%} of previous" if n else "received"
        body.append(
            f'<rect x="120" y="{y:.1f}" width="{max(bar, 1):.1f}" height="{row * 0.7:.1f}" fill="{PALETTE[n % 6]}">'
            f"<title>{escape(name)}: {count:,} ({count / first:.0%} of all)</title></rect>"
        )
        body.append(f'<text x="114" y="{y + row * 0.45:.1f}" text-anchor="end" class="tick">{escape(name)}</text>')
        body.append(
            f'<text x="{126 + bar:.1f}" y="{y + row * 0.45:.1f}" class="tick">{count:,} · {escape(step)}</text>'
        )
        previous = count or 1
    return _frame(title, width, height, body)


def empty(title: str) -> Markup:
    return Markup(f'<p class="chart-empty">{escape(title)}: nothing to show yet.</p>')


def _short(text: str, length: int) -> str:
    return text if len(text) <= max(length, 4) else text[: max(length, 4) - 1] + "…"
