"""Settings decoded from the vendor formats, and secrets kept out of what a diff shows.

Polycom XML attributes (``reg.1.label``), ``key=value`` lines (AudioCodes, Genesys, Interaction
SIP Station) and the soft phone's XML (``Lines/Line[1]/authPassword``) become flat
``setting → value`` maps. Secrets (keys that look like passwords, and any value equal to a known
secret) show as ``<redacted>`` unless asked. Takes bytes; gives maps and lines.
"""

from __future__ import annotations

import difflib
import fnmatch
import re
import xml.etree.ElementTree as ET

from mipc.diff.model import REDACTED

#: Setting keys whose values are secrets (matched case-insensitively, fnmatch style).
SECRET_PATTERNS: tuple[str, ...] = (
    "*password*",
    "*passwd*",
    "*passphrase*",
    "*secret*",
    "*.auth.password",
    "voip/line/*/auth_password",
    "*private_key*",
    "*privatekey*",
)


def is_secret_key(key: str) -> bool:
    """Whether a setting's key names a secret (:data:`SECRET_PATTERNS`)."""
    low = key.lower()
    return any(fnmatch.fnmatchcase(low, pattern) for pattern in SECRET_PATTERNS)


def is_binary(data: bytes) -> bool:
    """Whether a file is not text (a firmware image, say): it is compared by hash only."""
    if b"\x00" in data[:8192]:
        return True
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


_KV = re.compile(r"^\s*([^#;=\s][^=]*?)\s*=(.*)$")

_XML_ATTR = re.compile(r"""([\w.:-]+)(\s*=\s*)(["'])(.*?)\3""")


def _flatten_xml(root: ET.Element) -> dict[str, str]:
    """Polycom: attribute names are the setting names; other XML: ``path/attr``."""
    out: dict[str, str] = {}
    polycom = root.tag in ("polycomConfig", "APPLICATION")

    def visit(elem: ET.Element, path: str) -> None:
        for name, value in elem.attrib.items():
            if polycom or "." in name:
                key = name if polycom or not path else f"{path}/{name}"
            else:
                key = f"{path}/{name}" if path else name
            out[key] = value
        text = (elem.text or "").strip()
        if text and path:
            out[path] = text
        counts: dict[str, int] = {}
        for child in elem:
            if not isinstance(child.tag, str):
                continue  # a comment or a processing instruction
            counts[child.tag] = counts.get(child.tag, 0) + 1
        seen: dict[str, int] = {}
        for child in elem:
            if not isinstance(child.tag, str):
                continue
            seen[child.tag] = seen.get(child.tag, 0) + 1
            tag = child.tag
            if counts[tag] > 1:
                ident = child.attrib.get("index") or child.attrib.get("entry")
                tag = f"{tag}[{ident or seen[child.tag]}]"
            visit(child, f"{path}/{tag}" if path else tag)

    visit(root, "")
    return out


def _parse_kv(text: str) -> dict[str, str] | None:
    out: dict[str, str] = {}
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines:
        return None
    for line in lines:
        m = _KV.match(line)
        if m is None:
            return None
        key, value = m.group(1), m.group(2).strip()
        n, unique = 2, key
        while unique in out:
            unique = f"{key}#{n}"
            n += 1
        out[unique] = value
    return out


def decode_settings(path: str, data: bytes) -> dict[str, str] | None:
    """The settings of one file, in file order; None when the format is not one we read.

    XML files (Polycom ``.cfg``, the soft phone's ``.i3sipcfg``) give their attributes;
    ``key=value`` files give their keys. Network files (DHCP, DNS, nginx) are not decoded.
    """
    if path.startswith("network/") or is_binary(data):
        return None
    text = data.decode("utf-8")
    if text.lstrip().startswith("<"):
        try:
            return _flatten_xml(ET.fromstring(data))
        except ET.ParseError:
            return None
    return _parse_kv(text)


def redact_line(line: str, secrets: frozenset[str]) -> str:
    """A line of a file with secret values replaced (for unified diffs)."""
    if _XML_ATTR.search(line):
        line = _XML_ATTR.sub(
            lambda a: (
                f"{a.group(1)}{a.group(2)}{a.group(3)}{REDACTED}{a.group(3)}"
                if is_secret_key(a.group(1))
                else a.group(0)
            ),
            line,
        )
    else:
        m = _KV.match(line)
        if m is not None and is_secret_key(m.group(1)):
            line = line[: m.start(2)] + REDACTED + ("\n" if line.endswith("\n") else "")
    for value in secrets:
        if len(value) >= 4 and value in line:
            line = line.replace(value, REDACTED)
    return line


def unified_diff(
    path: str,
    old: bytes | None,
    new: bytes | None,
    *,
    secrets: frozenset[str] = frozenset(),
    show_secrets: bool = False,
) -> str:
    """A unified diff of one file (``/dev/null`` for a side that does not exist)."""
    a = old.decode("utf-8", "replace").splitlines(keepends=True) if old is not None else []
    b = new.decode("utf-8", "replace").splitlines(keepends=True) if new is not None else []
    lines = difflib.unified_diff(
        a,
        b,
        fromfile=f"a/{path}" if old is not None else "/dev/null",
        tofile=f"b/{path}" if new is not None else "/dev/null",
    )
    out = []
    for line in lines:
        if not line.endswith("\n"):
            line += "\n\\ No newline at end of file\n"
        if not show_secrets and line[:1] in "+- " and not line.startswith(("+++", "---")):
            line = line[0] + redact_line(line[1:], secrets)
        out.append(line)
    return "".join(out)
