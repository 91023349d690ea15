package crl

import (
	"encoding/binary"
	"time"
)

// The DER goes to the database in PostgreSQL's binary COPY format, one row
// whose last field is the CRL, so that even a 50 MB CRL is streamed to the
// server in 64 KiB pieces and never sits whole in this process's memory.
// (A bytea query parameter would be materialized, then copied again into the
// protocol buffer.) Format: https://www.postgresql.org/docs/15/sql-copy.html

// copyColumns are the columns of crl_issued written by COPY, in order; der
// must be last because its bytes are streamed after the others.
const copyColumns = "issuer_id, scope, crl_number, this_update, next_update, entries, run_id, der"

const copyColumnCount = 8

// pgEpoch is the origin of PostgreSQL's binary timestamps.
var pgEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// copyRowPrefix is the COPY header, the row's field count and every field
// but der, followed by der's length.
func copyRowPrefix(issuerID int64, scope string, number int64, thisUpdate, nextUpdate time.Time,
	entries int64, runID string, derLen int64) []byte {
	b := []byte("PGCOPY\n\xff\r\n\x00")
	b = binary.BigEndian.AppendUint32(b, 0) // flags: no OIDs
	b = binary.BigEndian.AppendUint32(b, 0) // no header extension
	b = binary.BigEndian.AppendUint16(b, copyColumnCount)
	b = appendInt8Field(b, issuerID)
	b = appendBytesField(b, []byte(scope))
	b = appendInt8Field(b, number)
	b = appendInt8Field(b, thisUpdate.Sub(pgEpoch).Microseconds())
	b = appendInt8Field(b, nextUpdate.Sub(pgEpoch).Microseconds())
	b = appendInt8Field(b, entries)
	b = appendBytesField(b, []byte(runID))
	return binary.BigEndian.AppendUint32(b, uint32(derLen))
}

// copyTrailer ends the COPY data.
var copyTrailer = []byte{0xff, 0xff}

func appendInt8Field(b []byte, v int64) []byte {
	b = binary.BigEndian.AppendUint32(b, 8)
	return binary.BigEndian.AppendUint64(b, uint64(v))
}

func appendBytesField(b []byte, v []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(v)))
	return append(b, v...)
}
