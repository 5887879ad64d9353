"""Polycom renderer: SoundPoint IP, SoundStation IP, VVX, Trio and SpectraLink phones.

A Polycom phone fetches ``<mac>.cfg`` (or ``000000000000.cfg`` when it is not provisioned),
then every file its ``CONFIG_FILES`` lists, left to right, and keeps the *first* value it sees
for each parameter. mipc writes (paths relative to the web root):

``<mac>.cfg``                 master: firmware path and the ordered list of files
``000000000000.cfg``          provisional station: latest firmware per model, a ``Setup`` line
``server/setup.cfg``          the provisional station's only parameter file
``phone/<guid>.cfg``          per-phone parameters (registrations, time, language, QoS, ...)
``proxy/<group>.cfg``         the servers of one registration group
``server/xic.cfg``            site-wide settings: dial plan, park/page keys, one-touch voice mail
``server/cert/ca.cfg``        the CA certificate phones on TLS trust (only when TLS is used)
``custom/<file>``             custom ``config_files`` copied from ``custom_files/polycom/``
``firmware/polycom/<version>/<part>.sip.ld``   firmware images, linked from the store
``phone1.cfg``, ``sip.cfg``   Polycom's stock files, linked from the store when present

Takes a :class:`~mipc.model.Plan`; gives artifacts. The vendor knowledge (which option writes
which parameter, tables, defaults) is data, ``vendor_templates/polycom/mapping.yaml``, read by
:mod:`.mapping`; the values are computed in :mod:`.renderer` and :mod:`.files` (one ordered
parameter map per file, where a key written twice is a bug that raises); the templates in
``vendor_templates/polycom/`` only lay them out, and each rendered file is parsed back in the
syntax its template declares (unless the shipped layout's fast path proves it well-formed,
:func:`mipc.render.templating.proven`). Problems that do not stop a build (a missing custom file or
firmware image, an option Polycom has no parameter for) are appended to
:attr:`PolycomRenderer.warnings`. Never imports release or another stage.
"""

from __future__ import annotations

from mipc.render.polycom.names import (
    CA_FILE,
    DEFAULT_MASTER,
    PHONE_NAMESPACE,
    SERVER_FILE,
    SETUP_FILE,
    group_file_name,
    phone_guid,
    safe_segment,
)
from mipc.render.polycom.params import PolycomError, iter_params
from mipc.render.polycom.renderer import PolycomRenderer
from mipc.render.polycom.shared import varied_groups

__all__ = [
    "CA_FILE",
    "DEFAULT_MASTER",
    "PHONE_NAMESPACE",
    "SERVER_FILE",
    "SETUP_FILE",
    "PolycomError",
    "PolycomRenderer",
    "group_file_name",
    "iter_params",
    "phone_guid",
    "safe_segment",
    "varied_groups",
]
