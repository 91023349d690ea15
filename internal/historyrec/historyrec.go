// Package historyrec writes a finished procedure's history with its payloads
// decoded, for the replay tests in workflows/testdata. Use it on demo data
// only (it is fictitious); real histories hold personal data.
package historyrec

import (
	"context"
	"fmt"

	commonpb "go.temporal.io/api/common/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/proxy"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"
)

// Record reads a workflow's history through raw (a client without the
// codec, so the history comes back as stored), decodes its payloads with
// codec and returns it as the JSON the SDK's replayer reads.
func Record(ctx context.Context, raw client.Client, codec converter.PayloadCodec, workflowID string) ([]byte, error) {
	hist := &historypb.History{}
	it := raw.GetWorkflowHistory(ctx, workflowID, "", false, 0)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return nil, fmt.Errorf("historyrec: %s: %w", workflowID, err)
		}
		hist.Events = append(hist.Events, ev)
	}
	if err := proxy.VisitPayloads(ctx, hist, proxy.VisitPayloadsOptions{
		SkipSearchAttributes: true,
		Visitor: func(_ *proxy.VisitPayloadsContext, p []*commonpb.Payload) ([]*commonpb.Payload, error) {
			return codec.Decode(p)
		},
	}); err != nil {
		return nil, fmt.Errorf("historyrec: decode %s: %w", workflowID, err)
	}
	return protojson.MarshalOptions{Indent: "  "}.Marshal(hist)
}
