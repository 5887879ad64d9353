from tests.tooling import require_tool
def test_missing() -> None:
    require_tool("definitely-not-a-tool")
def test_present() -> None:
    assert require_tool("dhcpd") == "/usr/sbin/dhcpd"
