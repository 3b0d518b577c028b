module github.com/ovsdbcs/ovsdbcs

go 1.26

require (
	github.com/cockroachdb/datadriven v1.0.3
	github.com/go-logr/logr v1.4.4
	github.com/ovn-org/libovsdb v0.7.0
	github.com/pmezard/go-difflib v1.0.0
	github.com/stretchr/testify v1.12.1
)

require go.yaml.in/yaml/v3 v3.0.5 // indirect
