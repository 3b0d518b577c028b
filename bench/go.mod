module github.com/ovsdbcs/ovsdbcs/bench

go 1.26

require (
	github.com/go-logr/logr v1.4.4
	github.com/ovn-org/libovsdb v0.7.0
	github.com/ovsdbcs/ovsdbcs v0.0.0-00010101000000-000000000000
)

require (
	github.com/go-logr/stdr v1.2.2 // indirect
	github.com/google/uuid v1.2.0 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
)

replace github.com/ovsdbcs/ovsdbcs => ../
