package ovsdbserver_test

import (
	"context"
	"sort"
	"testing"
	"time"

	"github.com/ovsdbcs/ovsdbcs/testserver/ovsdbserver"
)

// BenchmarkTransferLeadership measures one leadership change on a real
// 3-member cluster per method: ns/op is the whole call (for exit, the
// restart of the old leader too); "elected-ms" is the median time from the
// command to the new leader seen by polling, "p90-elected-ms" its 90th
// percentile.
//
//	go test ./testserver/ovsdbserver -run '^$' -bench TransferLeadership -benchtime 50x
func BenchmarkTransferLeadership(b *testing.B) {
	for _, m := range []ovsdbserver.TransferMethod{ovsdbserver.TransferFailureTest, ovsdbserver.TransferExit} {
		b.Run(string(m), func(b *testing.B) {
			c := ovsdbserver.StartCluster(b, 3, ovsdbserver.LabSchema())
			ctx := context.Background()
			var elected []time.Duration
			b.ResetTimer()
			for range b.N {
				tr, err := c.TransferLeadership(ctx, m)
				if err != nil {
					b.Fatal(err)
				}
				elected = append(elected, tr.Elected.Sub(tr.Issued))
			}
			b.StopTimer()
			sort.Slice(elected, func(i, j int) bool { return elected[i] < elected[j] })
			ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
			b.ReportMetric(ms(elected[len(elected)/2]), "elected-ms")
			b.ReportMetric(ms(elected[(len(elected)*9+9)/10-1]), "p90-elected-ms")
		})
	}
}
