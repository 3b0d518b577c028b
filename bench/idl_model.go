package bench

import (
	"maps"
	"slices"

	"github.com/ovn-org/libovsdb/model"
)

// LSP is the modelgen Logical_Switch_Port model (as in examples/nbdb) with
// the deep-copy and equality methods later modelgen versions generate, so
// that libovsdb's cache does not clone through JSON.
type LSP struct {
	UUID             string            `ovsdb:"_uuid"`
	Addresses        []string          `ovsdb:"addresses"`
	Dhcpv4Options    *string           `ovsdb:"dhcpv4_options"`
	Dhcpv6Options    *string           `ovsdb:"dhcpv6_options"`
	DynamicAddresses *string           `ovsdb:"dynamic_addresses"`
	Enabled          *bool             `ovsdb:"enabled"`
	ExternalIDs      map[string]string `ovsdb:"external_ids"`
	HaChassisGroup   *string           `ovsdb:"ha_chassis_group"`
	MirrorRules      []string          `ovsdb:"mirror_rules"`
	Name             string            `ovsdb:"name"`
	Options          map[string]string `ovsdb:"options"`
	ParentName       *string           `ovsdb:"parent_name"`
	PortSecurity     []string          `ovsdb:"port_security"`
	Tag              *int              `ovsdb:"tag"`
	TagRequest       *int              `ovsdb:"tag_request"`
	Type             string            `ovsdb:"type"`
	Up               *bool             `ovsdb:"up"`
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// DeepCopyInto copies a into b.
func (a *LSP) DeepCopyInto(b *LSP) {
	*b = *a
	b.Addresses = slices.Clone(a.Addresses)
	b.Dhcpv4Options = clonePtr(a.Dhcpv4Options)
	b.Dhcpv6Options = clonePtr(a.Dhcpv6Options)
	b.DynamicAddresses = clonePtr(a.DynamicAddresses)
	b.Enabled = clonePtr(a.Enabled)
	b.ExternalIDs = maps.Clone(a.ExternalIDs)
	b.HaChassisGroup = clonePtr(a.HaChassisGroup)
	b.MirrorRules = slices.Clone(a.MirrorRules)
	b.Options = maps.Clone(a.Options)
	b.ParentName = clonePtr(a.ParentName)
	b.PortSecurity = slices.Clone(a.PortSecurity)
	b.Tag = clonePtr(a.Tag)
	b.TagRequest = clonePtr(a.TagRequest)
	b.Up = clonePtr(a.Up)
}

// CloneModelInto implements model.CloneableModel.
func (a *LSP) CloneModelInto(b model.Model) { a.DeepCopyInto(b.(*LSP)) }

// CloneModel implements model.CloneableModel.
func (a *LSP) CloneModel() model.Model { b := new(LSP); a.DeepCopyInto(b); return b }

func eqPtr[T comparable](a, b *T) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

// EqualsModel implements model.ComparableModel.
func (a *LSP) EqualsModel(m model.Model) bool {
	b := m.(*LSP)
	return a.UUID == b.UUID && slices.Equal(a.Addresses, b.Addresses) && eqPtr(a.Dhcpv4Options, b.Dhcpv4Options) &&
		eqPtr(a.Dhcpv6Options, b.Dhcpv6Options) && eqPtr(a.DynamicAddresses, b.DynamicAddresses) &&
		eqPtr(a.Enabled, b.Enabled) && maps.Equal(a.ExternalIDs, b.ExternalIDs) && eqPtr(a.HaChassisGroup, b.HaChassisGroup) &&
		slices.Equal(a.MirrorRules, b.MirrorRules) && a.Name == b.Name && maps.Equal(a.Options, b.Options) &&
		eqPtr(a.ParentName, b.ParentName) && slices.Equal(a.PortSecurity, b.PortSecurity) && eqPtr(a.Tag, b.Tag) &&
		eqPtr(a.TagRequest, b.TagRequest) && a.Type == b.Type && eqPtr(a.Up, b.Up)
}
