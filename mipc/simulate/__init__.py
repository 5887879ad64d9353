"""``mipc simulate``: play a phone's boot and provision sequence against a built release.

Takes a release on disk (:mod:`mipc.simulate.sources`, through :mod:`mipc.release.reader`) or
a provisioning URL; gives a :class:`~mipc.simulate.model.Boot`: each request with its answer,
the effective settings with the file each came from, the uploads the phone would make
(:mod:`mipc.simulate.play`). Parses the vendor files with :mod:`mipc.diff.decode`; never
renders and never writes.
"""
