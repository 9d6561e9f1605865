package calls

import (
	"context"
	"fmt"
	"log/slog"

	"recordings/applog"
	"recordings/store"
)

// PurgeUnlicensed runs at start-up: with licences enforced (a licence
// count is configured) it deletes the recordings whose owner holds no
// licence, which were kept since they were made, and logs the counts
// under applog.License.
func PurgeUnlicensed(ctx context.Context, db *store.DB, log *slog.Logger) (deleted int64, err error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("category", applog.License)
	st, err := db.Licences(ctx)
	if err != nil {
		return 0, fmt.Errorf("licences: %w", err)
	}
	if !st.Configured {
		log.Info("licences not configured: every recording is kept")
		return 0, nil
	}
	deleted, kept, err := db.PurgeUnlicensed(ctx)
	if err != nil {
		return 0, fmt.Errorf("purge unlicensed recordings: %w", err)
	}
	lvl := slog.LevelInfo
	if deleted > 0 {
		lvl = slog.LevelWarn
	}
	log.Log(ctx, lvl, "deleted recordings of users without licence",
		"deleted", deleted, "kept_protected", kept, "licences", st.Count, "assigned", st.Assigned)
	if deleted > 0 {
		if err := db.IncrementalVacuum(ctx); err != nil {
			log.Warn("vacuum after licence purge", "err", err)
		}
	}
	return deleted, nil
}
