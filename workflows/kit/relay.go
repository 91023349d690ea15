package kit

// RelayState is the relay family's section of the state: the two sides of
// an application made through a relay municipality (経由市区町村), and how
// the other side stands. Nothing personal.
type RelayState struct {
	RelayCase           string `json:"relayCase,omitempty"`
	RelayMunicipality   string `json:"relayMunicipality,omitempty"`
	AddressCase         string `json:"addressCase,omitempty"`
	AddressMunicipality string `json:"addressMunicipality,omitempty"`
	HandOverAt          string `json:"handOverAt,omitempty"`
	// AddressStep and AddressStatus are the address side's, as the relay
	// last heard them.
	AddressStep   string `json:"addressStep,omitempty"`
	AddressStatus string `json:"addressStatus,omitempty"`
}
