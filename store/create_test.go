package store

import (
	"context"
	"testing"
)

func TestNewDatabasePageSize(t *testing.T) {
	t.Parallel()
	db, _ := openTest(t)
	var ps, av int
	if err := db.r.QueryRowContext(context.Background(), "PRAGMA page_size").Scan(&ps); err != nil {
		t.Fatal(err)
	}
	if err := db.r.QueryRowContext(context.Background(), "PRAGMA auto_vacuum").Scan(&av); err != nil {
		t.Fatal(err)
	}
	if ps != pageSize || av != 2 {
		t.Fatalf("page_size %d, auto_vacuum %d; want %d, 2 (incremental)", ps, av, pageSize)
	}
}
