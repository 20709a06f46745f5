package units

import "github.com/podunit/podunit/units/unitdef"

// What a unit is, podunit's names and the helpers' shared timings live in
// package unitdef, which imports no Kubernetes package (the helpers' small
// binary links it); they are this package's as well.
type (
	Unit          = unitdef.Unit
	Property      = unitdef.Property
	Exec          = unitdef.Exec
	AppendFile    = unitdef.AppendFile
	Calendars     = unitdef.Calendars
	ExitStatusSet = unitdef.ExitStatusSet
)

const (
	Prefix            = unitdef.Prefix
	LabelClaim        = unitdef.LabelClaim
	LabelPod          = unitdef.LabelPod
	LabelContainer    = unitdef.LabelContainer
	LabelRole         = unitdef.LabelRole
	StopMargin        = unitdef.StopMargin
	InfraGrace        = unitdef.InfraGrace
	StartMargin       = unitdef.StartMargin
	InfraRetry        = unitdef.InfraRetry
	InitialBackOff    = unitdef.InitialBackOff
	MaxBackOff        = unitdef.MaxBackOff
	Infinity          = unitdef.Infinity
	ServicesContainer = unitdef.ServicesContainer
	RoleServices      = unitdef.RoleServices
)

var (
	Escape             = unitdef.Escape
	Unescape           = unitdef.Unescape
	SliceName          = unitdef.SliceName
	InfraUnitName      = unitdef.InfraUnitName
	ContainerUnitName  = unitdef.ContainerUnitName
	ProberUnitName     = unitdef.ProberUnitName
	DeadlineUnitName   = unitdef.DeadlineUnitName
	EndUnitName        = unitdef.EndUnitName
	InfraContainerName = unitdef.InfraContainerName
	ContainerName      = unitdef.ContainerName
	VolumeName         = unitdef.VolumeName
	ClaimVolumeName    = unitdef.ClaimVolumeName
	ParseUnitName      = unitdef.ParseUnitName
	Spec               = unitdef.Spec
	EscapeEnvRefs      = unitdef.EscapeEnvRefs
	QuoteExecArg       = unitdef.QuoteExecArg
	StopBudget         = unitdef.StopBudget
	StaleWait          = unitdef.StaleWait
	NoLimit            = unitdef.NoLimit
	EndUnit            = unitdef.EndUnit
	prop               = unitdef.Prop
)
