"""Network: DHCP (ISC, Kea, dnsmasq), DNS zone and nginx site files from the plan.

Takes a network plan (servers, phones, site); gives path → bytes. Never imports release.
"""
