"""Make a chart's SVG safe to insert into the page: no scripts, handlers or outside links.

A chart is drawn by matplotlib, but a kept run or a flow can carry any dict of kind
``chart``, so its SVG is parsed (without a document type or entities), pruned to drawing
elements and attributes, and written out again; what cannot be parsed is not shown.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET  # noqa: S405 - entities and doctypes are refused first

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
ET.register_namespace("", SVG_NS)
ET.register_namespace("xlink", XLINK_NS)

MAX_SVG = 2_000_000
DROPPED = {"script", "foreignobject", "style", "iframe", "embed", "object", "set", "animate",
           "animatemotion", "animatetransform", "handler", "listener", "discard"}
LINKS = {"href", "src", "action", "formaction"}
_PROLOG = re.compile(r"^\s*(<\?xml[^>]*\?>)?\s*(<!DOCTYPE\s+svg[^\[\]>]*>)?", re.IGNORECASE)


class UnsafeSvg(ValueError):
    """The SVG could not be made safe (too large, a DTD or entity, or not SVG at all)."""


def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1].lower()


def _safe_link(value: str) -> bool:
    text = value.strip().lower()
    return text.startswith("#") or text.startswith("data:image/")


def _prune(element: ET.Element) -> None:
    for child in list(element):
        if not isinstance(child.tag, str) or _local(child.tag) in DROPPED:
            element.remove(child)
        else:
            _prune(child)
    for name in list(element.attrib):
        local = _local(name)
        value = element.attrib[name]
        if (local.startswith("on") or (local in LINKS and not _safe_link(value))
                or "javascript:" in value.lower().replace(" ", "")):
            del element.attrib[name]


def sanitize_svg(svg: str) -> str:
    """Return ``svg`` pruned to drawing markup, sized to fit its box.

    Raises:
        UnsafeSvg: the text is too large, declares a DTD subset or entities, or is not SVG.
    """
    if len(svg) > MAX_SVG:
        msg = f"the chart's SVG has {len(svg)} characters, more than {MAX_SVG}; not shown"
        raise UnsafeSvg(msg)
    body = _PROLOG.sub("", svg, count=1)
    if re.search(r"<!(DOCTYPE|ENTITY)", body, re.IGNORECASE):
        msg = "the chart's SVG declares a document type or entities; not shown"
        raise UnsafeSvg(msg)
    try:
        root = ET.fromstring(body)  # noqa: S314 - no DTD left, so no entity can expand
    except ET.ParseError as exc:
        msg = f"the chart's SVG is not well-formed XML ({exc}); not shown"
        raise UnsafeSvg(msg) from exc
    if root.tag != f"{{{SVG_NS}}}svg":
        msg = "the chart's SVG does not start with an <svg> element; not shown"
        raise UnsafeSvg(msg)
    _prune(root)
    root.attrib.pop("height", None)
    root.set("width", "100%")
    root.set("data-testid", "chart-svg")
    return ET.tostring(root, encoding="unicode")


def safe_or_empty(svg: str) -> str:
    """The sanitised SVG, or an empty string when it cannot be made safe (for ui.html)."""
    try:
        return sanitize_svg(svg)
    except UnsafeSvg:
        return ""
