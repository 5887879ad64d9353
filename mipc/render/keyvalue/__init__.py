"""Renderers for the ``key=value`` families: AudioCodes / Genesys 400HD and Interaction SIP
Station I and II.

Takes an effective phone and its plan; gives one ``<mac>.cfg`` per phone (lower-case MAC, no
separators): ``key=value`` lines, LF, ASCII, no BOM, no comments, ``system/type=<MODEL>``
first, and the family's shared files (custom files, firmware links). Never imports release.

Vendor knowledge is data, not code: ``vendor_templates/<family>/keys.yaml`` (extending
``vendor_templates/keyvalue/common.yaml``) maps each *concept* mipc knows
(``sip.proxy_address``, ``dst.start.week`` ...) to the family's key path and holds the value
spellings, model types, limits and defaults; it is found like the templates, so an inventory's
``vendor_templates/`` folder overrides it (see ``docs/keyvalue-and-softphone.md``). Python
keeps the transforms (:mod:`.sections`, named by the data), the file format (:mod:`.kvfile`)
and the layout of the release (:mod:`.renderer`, :mod:`.shared`). A concept a family has no
key for is simply not written (and an option that therefore cannot be written is reported once
as a warning).

* AudioCodes / Genesys keys come from device exports, the AudioCodes manuals and sipXecs.
* The Interaction SIP Station file format is not public: its data file is a documented *mipc
  profile* in the same slash-path family (ISS II is AudioCodes hardware, MAC 00:90:8F, so the
  shared concepts use the AudioCodes paths); an administrator with the real format overrides
  ``vendor_templates/iss/`` (data and template).

Values: every value must be printable ASCII without ``=`` (a label, password or extra value
with a newline, a control character, ``=`` or a non-ASCII character is rejected with an error
naming the phone and the key, never written); the data's length limits are enforced.

Custom ``config_files`` (CIC's ``CUSTOM::config_files``) are read from
``<inventory>/custom_files/<Manufacturer>/``, published at ``<Manufacturer>/<name>`` and their
keys merged into ``<mac>.cfg`` ahead of mipc's own (CIC has the phone fetch them before
``<MAC>.cfg``, so mipc's values win; a clash is a warning). ``extra:`` comes last; an extra
key that mipc already writes is an error.
"""

from __future__ import annotations

from mipc.render.base import RenderError, register
from mipc.render.keyvalue.data import load_profile
from mipc.render.keyvalue.kvfile import KeyValueFile, check_value, parse_strict
from mipc.render.keyvalue.profile import Profile, ProfileError
from mipc.render.keyvalue.renderer import KeyValueRenderer
from mipc.render.keyvalue.sections import firmware_path, voicemail_number

__all__ = [
    "AudioCodesRenderer",
    "IssRenderer",
    "KeyValueFile",
    "KeyValueRenderer",
    "Profile",
    "ProfileError",
    "RenderError",
    "check_value",
    "firmware_path",
    "load_profile",
    "parse_strict",
    "voicemail_number",
]


@register("audiocodes")
class AudioCodesRenderer(KeyValueRenderer):
    """AudioCodes 405/405HD/420HD/430HD/440HD and the Genesys-branded 405/405HD/420HD."""

    family = "audiocodes"


@register("iss")
class IssRenderer(KeyValueRenderer):
    """Interaction SIP Station I and II (mipc profile; the vendor format is not public)."""

    family = "iss"
