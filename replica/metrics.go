package replica

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Collector exports the replication state read from status at each scrape:
//
//	recordings_replica_enabled                     1 while a replica is configured
//	recordings_replica_healthy                     1 unless the last attempt failed
//	recordings_replica_lag_seconds                 how long the oldest unshipped transaction has waited
//	recordings_replica_local_txid                  last transaction read from the WAL
//	recordings_replica_txid                        last transaction on the replica
//	recordings_replica_last_sync_timestamp_seconds when the replica last received what was pending
//	recordings_replica_errors_total                failed attempts since start
func Collector(status func() Status) prometheus.Collector {
	return collector{status: status}
}

type collector struct{ status func() Status }

var (
	descEnabled  = prometheus.NewDesc("recordings_replica_enabled", "1 while the database is replicated continuously.", nil, nil)
	descHealthy  = prometheus.NewDesc("recordings_replica_healthy", "1 unless the last replication attempt failed.", nil, nil)
	descLag      = prometheus.NewDesc("recordings_replica_lag_seconds", "How long the oldest transaction not yet on the replica has waited.", nil, nil)
	descLocal    = prometheus.NewDesc("recordings_replica_local_txid", "The last transaction read from the write-ahead log.", nil, nil)
	descRemote   = prometheus.NewDesc("recordings_replica_txid", "The last transaction on the replica.", nil, nil)
	descLastSync = prometheus.NewDesc("recordings_replica_last_sync_timestamp_seconds", "When the replica last received what was pending (Unix time).", nil, nil)
	descErrors   = prometheus.NewDesc("recordings_replica_errors_total", "Failed replication attempts since the start.", nil, nil)
)

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descEnabled, descHealthy, descLag, descLocal, descRemote, descLastSync, descErrors} {
		ch <- d
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	st := c.status()
	b := func(v bool) float64 {
		if v {
			return 1
		}
		return 0
	}
	ch <- prometheus.MustNewConstMetric(descEnabled, prometheus.GaugeValue, b(st.URL != ""))
	ch <- prometheus.MustNewConstMetric(descHealthy, prometheus.GaugeValue, b(st.State != "error"))
	ch <- prometheus.MustNewConstMetric(descLag, prometheus.GaugeValue, st.LagSeconds)
	ch <- prometheus.MustNewConstMetric(descLocal, prometheus.GaugeValue, float64(st.LocalTXID))
	ch <- prometheus.MustNewConstMetric(descRemote, prometheus.GaugeValue, float64(st.ReplicaTXID))
	last := 0.0
	if !st.LastSync.IsZero() {
		last = float64(st.LastSync.UnixMilli()) / 1000
	}
	ch <- prometheus.MustNewConstMetric(descLastSync, prometheus.GaugeValue, last)
	ch <- prometheus.MustNewConstMetric(descErrors, prometheus.CounterValue, float64(st.Errors))
}
