package dynamostore

// The item encoding, for the tests of the external test package.
var (
	MarshalItem   = marshalItem
	UnmarshalItem = unmarshalItem
)
