package replica

import (
	"bytes"
	"context"
	"io"
	"log/slog"

	"github.com/superfly/ltx"
)

// memClient holds one LTX file in memory; enough for the fuzz target.
type memClient struct{ data []byte }

func (m *memClient) Type() string                    { return "mem" }
func (m *memClient) Init(context.Context) error      { return nil }
func (m *memClient) SetLogger(*slog.Logger)          {}
func (m *memClient) DeleteAll(context.Context) error { return nil }
func (m *memClient) DeleteLTXFiles(context.Context, []*ltx.FileInfo) error {
	return nil
}
func (m *memClient) LTXFiles(context.Context, int, ltx.TXID, bool) (ltx.FileIterator, error) {
	return ltx.NewFileInfoSliceIterator(nil), nil
}
func (m *memClient) OpenLTXFile(_ context.Context, _ int, _, _ ltx.TXID, offset, size int64) (io.ReadCloser, error) {
	b := m.data[min(offset, int64(len(m.data))):]
	if size > 0 {
		b = b[:min(size, int64(len(b)))]
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}
func (m *memClient) WriteLTXFile(_ context.Context, level int, minTXID, maxTXID ltx.TXID, r io.Reader) (*ltx.FileInfo, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	m.data = b
	return &ltx.FileInfo{Level: level, MinTXID: minTXID, MaxTXID: maxTXID, Size: int64(len(b))}, nil
}
