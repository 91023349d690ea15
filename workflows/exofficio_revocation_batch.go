package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/madoguchi/madoguchi/contract"
	"github.com/madoguchi/madoguchi/workflows/kit"
)

// Batch sizes of the ex-officio revocation of a batch.
const (
	// DefaultRevocationChunk changes go to the Organization in one call,
	// one transaction.
	DefaultRevocationChunk = 1000
	// RevocationChunksInFlight bounds the fan-out: chunks at the CA at once.
	RevocationChunksInFlight = 2
	// MaxBatchChanges bounds one batch (its history stays a few MB: a
	// chunk's columns travel twice, read and sent); a larger merger sends
	// several batches.
	MaxBatchChanges = 100000
)

// ExOfficioRevocationBatchInput starts 第2 2(3) for a batch of register
// changes recorded under the case (storage.RecordRegisterBatch): the
// changes are read from the municipal database chunk by chunk, never
// carried in the input.
type ExOfficioRevocationBatchInput struct {
	CaseNumber       string `json:"caseNumber"`
	MunicipalityCode string `json:"municipalityCode"`
	Actor            string `json:"actor"`
	BatchID          string `json:"batchId"`
	// ChunkSize is the changes per CA call (0: DefaultRevocationChunk).
	ChunkSize int `json:"chunkSize,omitempty"`
}

// ExOfficioRevocationBatchDetail counts what the batch did.
type ExOfficioRevocationBatchDetail struct {
	Changes        int `json:"changes"`
	Chunks         int `json:"chunks"`
	Revoked        int `json:"revoked"`
	Replayed       int `json:"replayed"`
	AlreadyRevoked int `json:"alreadyRevoked"`
	Marked         int `json:"marked"`
}

// ExOfficioRevocationBatchResult is the outcome of the batch procedure.
type ExOfficioRevocationBatchResult = kit.Outcome[ExOfficioRevocationBatchDetail]

// ExOfficioRevocationBatch is 第2 2(3) for a batch of register changes (a
// municipal merger, a re-numbering of addresses): one case, chunks of
// changes revoked in one CA transaction each, at most
// RevocationChunksInFlight at a time, the municipal records completed per
// chunk. The holders' notices of a batch are the municipality's mass
// mailing, recorded as one document of the case.
func ExOfficioRevocationBatch(ctx workflow.Context, in ExOfficioRevocationBatchInput) (ExOfficioRevocationBatchResult, error) {
	c, err := kit.New(ctx, kit.Info{Number: in.CaseNumber, Procedure: contract.ProcExOfficioRevocationBatch, Office: in.MunicipalityCode})
	if err != nil {
		return ExOfficioRevocationBatchResult{}, err
	}
	size := in.ChunkSize
	if size <= 0 || size > DefaultRevocationChunk*5 {
		size = DefaultRevocationChunk
	}
	return kit.Run(ctx, c, func(ctx workflow.Context) (ExOfficioRevocationBatchDetail, error) {
		var d ExOfficioRevocationBatchDetail
		st := &kit.RevocationState{}
		c.State().Revocation = st
		// 第2 2(3)ア 住民基本台帳の異動等の受付 (the batch, recorded by the gateway).
		c.Enter(ctx, kit.StepReception, in.Actor)
		if err := c.Record(ctx, "register_batch", in.Actor, in.BatchID); err != nil {
			return d, err
		}
		// 第2 2(3)イ 機構への通知と職権失効, chunk by chunk; ウ the records of each.
		c.Enter(ctx, StepExOfficioRevocation, "")
		type pending struct {
			ids []int64
			f   workflow.Future
		}
		var inFlight []pending
		settle := func() error {
			p := inFlight[0]
			inFlight = inFlight[1:]
			var res contract.RevokeForRegisterChangesResult
			if err := p.f.Get(ctx, &res); err != nil {
				return err
			}
			m, err := kit.Local(ctx, contract.CompleteRegisterChanges, contract.CompleteRegisterChangesInput{
				Municipality: c.Office(), EventIDs: p.ids, At: workflow.Now(ctx)})
			if err != nil {
				return err
			}
			d.Revoked += res.Revoked + res.Replayed
			d.Replayed += res.Replayed
			d.AlreadyRevoked += res.AlreadyRevoked
			d.Marked += m.Marked
			st.Processed += len(p.ids)
			st.RevokedCount, st.Replayed, st.AlreadyRevoked = d.Revoked, d.Replayed, d.AlreadyRevoked
			return nil
		}
		var after int64
		for {
			chunk, err := kit.Local(ctx, contract.ReadRegisterChanges, contract.ReadRegisterChangesInput{BatchCase: c.Number(), After: after, Limit: size})
			if err != nil {
				return d, err
			}
			if after == 0 {
				d.Changes, st.Changes = chunk.Total, chunk.Total
			}
			n := chunk.Changes.Len()
			if n == 0 {
				break
			}
			after = chunk.Changes.EventIDs[n-1]
			d.Chunks++
			f := workflow.ExecuteActivity(chunkOptions(ctx), contract.RevokeForRegisterChanges.Name, contract.RevokeForRegisterChangesInput{
				Municipality: c.Office(), Changes: chunk.Changes, At: workflow.Now(ctx)})
			inFlight = append(inFlight, pending{ids: chunk.Changes.EventIDs, f: f})
			if len(inFlight) >= RevocationChunksInFlight {
				if err := settle(); err != nil {
					return d, err
				}
			}
			if n < size {
				break
			}
		}
		for len(inFlight) > 0 {
			if err := settle(); err != nil {
				return d, err
			}
		}
		if d.Revoked == 0 {
			return d, nil
		}
		// 第2 2(3)エ 利用者への通知: the notices of the batch.
		c.Enter(ctx, StepHolderNotice, "")
		if _, err := kit.Local(ctx, contract.RegisterDocuments, contract.RegisterDocumentsInput{CaseNumber: c.Number(), DocTypes: []string{DocRevocationNotice}}); err != nil {
			return d, err
		}
		st.Notice = DocRevocationNotice
		return d, nil
	})
}

// chunkOptions runs one chunk at the CA: a transaction of up to a few
// thousand rows, heartbeating before and after it, retried (idempotently)
// for up to a day like every Organization step.
func chunkOptions(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue:              contract.CATaskQueue,
		StartToCloseTimeout:    5 * time.Minute,
		HeartbeatTimeout:       2 * time.Minute,
		ScheduleToCloseTimeout: 24 * time.Hour,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: time.Second, MaximumInterval: time.Minute,
			NonRetryableErrorTypes: []string{contract.ErrTypeRejected, contract.ErrTypeInvalid, contract.ErrTypeLapsed},
		},
	})
}
