package codec

import (
	"context"
	"fmt"

	commonpb "go.temporal.io/api/common/v1"
	failurepb "go.temporal.io/api/failure/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/protobuf/proto"
)

// How the scope of a payload is chosen. The SDK (v1.51) tells converters
// where they run through serialization contexts: the workflow id for
// workflow payloads (for a child or an external signal, the target's), and
// the calling workflow's id for activity payloads, local ones included, on
// workers and clients alike. That id decides, because it is what the history
// is filed under. Where the SDK names no workflow, the scope a caller put in
// its Go context with WithScope is used, then the workflow the converter
// runs in (WithWorkflowContext), then ScopeSystem.

// binding is what a codec knows of where it runs.
type binding struct {
	serial   string // from the SDK's serialization context (a workflow id)
	caller   string // from the Go context (WithScope)
	workflow string // from the workflow context
}

func (b binding) scope() (string, error) {
	if b.serial != "" && b.caller != "" && b.serial != b.caller {
		// The gateway said one municipality and the workflow is another's:
		// refuse rather than file one municipality's data under another.
		return "", fmt.Errorf("%w: the caller's scope %q, the workflow's %q", ErrScopeMismatch, b.caller, b.serial)
	}
	for _, s := range []string{b.serial, b.caller, b.workflow} {
		if s != "" {
			return s, nil
		}
	}
	return ScopeSystem, nil
}

type scopeKey struct{}

// WithScope returns a context whose Temporal client calls encrypt under
// scope (a municipality code). The SDK names the workflow of every start,
// signal, update and query, and that workflow's scope wins; WithScope is the
// scope where it names none, and a cross-check: a call whose workflow
// belongs to another scope fails with ErrScopeMismatch instead of sending.
func WithScope(ctx context.Context, scope string) context.Context {
	return context.WithValue(ctx, scopeKey{}, scope)
}

// ScopeFrom is the scope WithScope put in ctx, or "".
func ScopeFrom(ctx context.Context) string {
	s, _ := ctx.Value(scopeKey{}).(string)
	return s
}

// scopeOfSerializationContext is the scope a serialization context names,
// or "" (a standalone activity, Nexus, none).
func scopeOfSerializationContext(sc converter.SerializationContext) string {
	switch sc := sc.(type) {
	case converter.WorkflowSerializationContext:
		return ScopeOfWorkflowID(sc.WorkflowID)
	case converter.ActivitySerializationContext:
		return ScopeOfWorkflowID(sc.WorkflowID)
	}
	return ""
}

// scopeOfWorkflow is the scope of the workflow ctx runs in; "" if ctx is not
// a workflow context (GetInfo panics then).
func scopeOfWorkflow(ctx workflow.Context) (scope string) {
	defer func() {
		if recover() != nil {
			scope = ""
		}
	}()
	if ctx == nil {
		return ""
	}
	return ScopeOfWorkflowID(workflow.GetInfo(ctx).WorkflowExecution.ID)
}

// boundCodec is the codec with what it knows of where it runs.
type boundCodec struct {
	c *AESGCM
	b binding
}

func (bc *boundCodec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	scope, err := bc.b.scope()
	if err != nil {
		return nil, err
	}
	return bc.c.encode(payloads, scope)
}

// Decode decrypts whatever scope the payload names: every process holding
// the key file may read every scope, and one workflow's history legitimately
// holds another's payloads (a signal it sent, encrypted under the target's).
func (bc *boundCodec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	return bc.c.decode(payloads, "")
}

// WithSerializationContext implements converter.PayloadCodecWithSerializationContext.
func (bc *boundCodec) WithSerializationContext(sc converter.SerializationContext) converter.PayloadCodec {
	b := bc.b
	b.serial = scopeOfSerializationContext(sc)
	return &boundCodec{c: bc.c, b: b}
}

// WithSerializationContext implements
// converter.PayloadCodecWithSerializationContext, for the codec used in a
// converter.NewCodecDataConverter chain or as the header codec.
func (c *AESGCM) WithSerializationContext(sc converter.SerializationContext) converter.PayloadCodec {
	return &boundCodec{c: c, b: binding{serial: scopeOfSerializationContext(sc)}}
}

// dataConverter is the default data converter with the codec, aware of the
// contexts the SDK passes to converters.
type dataConverter struct {
	bc    *boundCodec
	inner converter.DataConverter
}

func newDataConverter(c *AESGCM, b binding) *dataConverter {
	bc := &boundCodec{c: c, b: b}
	return &dataConverter{bc: bc, inner: converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), bc)}
}

// DataConverter wraps the default converter with this codec. It implements
// converter.ContextAware and the serialization-context interface, so the
// SDK binds it to the workflow whose payloads it converts.
func (c *AESGCM) DataConverter() converter.DataConverter { return newDataConverter(c, binding{}) }

func (d *dataConverter) ToPayload(value any) (*commonpb.Payload, error) {
	return d.inner.ToPayload(value)
}
func (d *dataConverter) FromPayload(p *commonpb.Payload, valuePtr any) error {
	return d.inner.FromPayload(p, valuePtr)
}
func (d *dataConverter) ToPayloads(value ...any) (*commonpb.Payloads, error) {
	return d.inner.ToPayloads(value...)
}
func (d *dataConverter) FromPayloads(p *commonpb.Payloads, valuePtrs ...any) error {
	return d.inner.FromPayloads(p, valuePtrs...)
}
func (d *dataConverter) ToString(p *commonpb.Payload) string     { return d.inner.ToString(p) }
func (d *dataConverter) ToStrings(p *commonpb.Payloads) []string { return d.inner.ToStrings(p) }
func (d *dataConverter) Codec() converter.PayloadCodec           { return d.bc }
func (d *dataConverter) withBinding(b binding) converter.DataConverter {
	if b == d.bc.b {
		return d
	}
	return newDataConverter(d.bc.c, b)
}

// WithSerializationContext implements converter.DataConverterWithSerializationContext.
func (d *dataConverter) WithSerializationContext(sc converter.SerializationContext) converter.DataConverter {
	b := d.bc.b
	b.serial = scopeOfSerializationContext(sc)
	return d.withBinding(b)
}

// WithContext implements converter.ContextAware: the scope of WithScope.
func (d *dataConverter) WithContext(ctx context.Context) converter.DataConverter {
	s := ScopeFrom(ctx)
	if s == "" {
		return d
	}
	b := d.bc.b
	b.caller = s
	return d.withBinding(b)
}

// WithWorkflowContext implements converter.ContextAware: the scope of the
// workflow the converter runs in, used only where the SDK names none.
func (d *dataConverter) WithWorkflowContext(ctx workflow.Context) converter.DataConverter {
	b := d.bc.b
	b.workflow = scopeOfWorkflow(ctx)
	return d.withBinding(b)
}

// failureConverter is the SDK's default failure converter with messages and
// stack traces encoded (EncodeCommonAttributes) by the codec, bound to the
// workflow of each failure. The SDK's own DefaultFailureConverter takes no
// serialization context, so without this failures would all be ScopeSystem.
type failureConverter struct {
	dc converter.DataConverter
	fc *temporal.DefaultFailureConverter
}

func newFailureConverter(dc converter.DataConverter) *failureConverter {
	return &failureConverter{dc: dc, fc: temporal.NewDefaultFailureConverter(temporal.DefaultFailureConverterOptions{
		DataConverter:          dc,
		EncodeCommonAttributes: true,
	})}
}

// FailureConverter encrypts failures: the message and stack trace go into
// the encoded attributes, encrypted under the failing workflow's scope.
func (c *AESGCM) FailureConverter() converter.FailureConverter {
	return newFailureConverter(c.DataConverter())
}

// ErrorToFailure encodes an error under the failing workflow's scope. Where
// the codec cannot encrypt that scope (a scoped keyring given a task of
// another municipality's workflow, or a caller's scope contradicting the
// workflow's) the SDK's converter would panic; the failure is then a fixed,
// non-retryable refusal that carries nothing of the error.
func (f *failureConverter) ErrorToFailure(err error) *failurepb.Failure {
	if d, ok := f.dc.(*dataConverter); ok && err != nil {
		if scope, serr := d.bc.b.scope(); serr != nil || !d.bc.c.Holds(scope) {
			return scopeRefusal()
		}
	}
	return f.fc.ErrorToFailure(err)
}

// FailureTypeScopeRefused is the type of the failure a process reports for
// a task whose scope its keyring does not hold.
const FailureTypeScopeRefused = "CodecScopeRefused"

func scopeRefusal() *failurepb.Failure {
	return &failurepb.Failure{
		Message: ErrScopeNotHeld.Error(),
		Source:  "madoguchi-codec", // not the SDK's encoded failure: a fixed text, no application data
		FailureInfo: &failurepb.Failure_ApplicationFailureInfo{ApplicationFailureInfo: &failurepb.ApplicationFailureInfo{
			Type: FailureTypeScopeRefused, NonRetryable: true,
		}},
	}
}

// FailureToError decodes a copy: the SDK's converter writes the decrypted
// message back into the failure it is given, and for a local activity the
// SDK (v1.51) hands it the very failure of the MarkerRecorded command it is
// about to send, which would then reach the history in clear.
func (f *failureConverter) FailureToError(failure *failurepb.Failure) error {
	if failure == nil {
		return nil
	}
	return f.fc.FailureToError(proto.Clone(failure).(*failurepb.Failure))
}

// WithSerializationContext implements converter.FailureConverterWithSerializationContext.
func (f *failureConverter) WithSerializationContext(sc converter.SerializationContext) converter.FailureConverter {
	return newFailureConverter(converter.WithDataConverterSerializationContext(f.dc, sc))
}

var (
	_ converter.PayloadCodecWithSerializationContext     = (*AESGCM)(nil)
	_ converter.PayloadCodecWithSerializationContext     = (*boundCodec)(nil)
	_ converter.DataConverterWithSerializationContext    = (*dataConverter)(nil)
	_ converter.ContextAware                             = (*dataConverter)(nil)
	_ converter.PayloadCodecProvider                     = (*dataConverter)(nil)
	_ converter.FailureConverterWithSerializationContext = (*failureConverter)(nil)
)
