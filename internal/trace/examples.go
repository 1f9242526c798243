package trace

// Example addresses on long-standing national networks, for tests and demos
// that need an IP in a given country without touching DNS (use them as IP
// literals, or map a reserved name such as "se.example.test" to them in a
// HostsResolver). The bundled data, as of its build date, places each in the
// country and AS named; TestExampleAddresses checks that it still does, so a
// data refresh that moves one fails loudly. They are data points only: never
// contact them.
const (
	// ExampleSE is in 192.36.0.0/16, SUNET (AS1653), the Swedish university network.
	ExampleSE = "192.36.125.18"
	// ExampleNL is in 193.0.0.0/21, RIPE NCC (AS3333), Amsterdam.
	ExampleNL = "193.0.6.139"
	// ExampleRU is in 213.180.192.0/19, Yandex (AS13238), Moscow.
	ExampleRU = "213.180.204.3"

	// ExampleSE6 is in 2001:6b0::/32, SUNET (AS1653).
	ExampleSE6 = "2001:6b0::1"
	// ExampleNL6 is in 2001:67c:2e8::/48, RIPE NCC (AS3333).
	ExampleNL6 = "2001:67c:2e8::1"
	// ExampleRU6 is in 2a02:6b8::/32, Yandex (AS13238).
	ExampleRU6 = "2a02:6b8::1"
)
