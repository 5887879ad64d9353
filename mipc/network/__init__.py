"""Network: DHCP (ISC, Kea, dnsmasq), DNS zone and nginx site files from the plan.

Takes a plan; gives the network plan (:mod:`.plan`), its checks (:mod:`.checks`) and the
files: :mod:`.dhcp`, :mod:`.dns`, :mod:`.nginx` (name → bytes). Never imports render or release.
"""
