package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"recordings/store"
)

// dbFlag adds -db (default from RECORDINGS_DB) to fs.
func dbFlag(fs *flag.FlagSet) *string {
	return fs.String("db", envOr("RECORDINGS_DB", "./data/recordings.db"), "SQLite database file (env RECORDINGS_DB)")
}

// openExisting opens a database that must exist already (the tools never
// create an empty one by mistake).
func openExisting(ctx context.Context, path string, stderr io.Writer) (*store.DB, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("database %s: %w", path, err)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	db, err := store.Open(ctx, path, log)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	return db, nil
}

// backupCmd writes a consistent snapshot of the database, which may be in
// use by the running service, to OUT.
func backupCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := dbFlag(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: recordings backup [-db FILE] OUT.db")
	}
	out := fs.Arg(0)
	if _, err := os.Stat(out); err == nil {
		return fmt.Errorf("backup: %s exists; choose a new file name", out)
	}
	d, err := openExisting(ctx, *db, stderr)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.BackupTo(ctx, out); err != nil {
		return err
	}
	st, err := os.Stat(out)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	fmt.Fprintf(stdout, "backup of %s written to %s (%d bytes)\n", *db, out, st.Size())
	return nil
}

// checkCmd runs PRAGMA integrity_check on a read-only connection; a failure
// is the command's error (exit status 1).
func checkCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := dbFlag(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return errors.New("usage: recordings check [-db FILE]")
	}
	// Read-only: checking a backup before restoring it must not migrate
	// or otherwise change it.
	v, err := store.CheckFile(ctx, *db)
	if err != nil {
		return err
	}
	note := ""
	if v < store.SchemaVersion() {
		note = fmt.Sprintf("; the service migrates it to %d at start", store.SchemaVersion())
	} else if v > store.SchemaVersion() {
		note = fmt.Sprintf("; newer than this program (%d)", store.SchemaVersion())
	}
	fmt.Fprintf(stdout, "%s: ok (schema version %d%s)\n", *db, v, note)
	return nil
}

// createAdminCmd creates an administrator, or makes an existing account an
// administrator with the new password (recovering a lost admin password).
func createAdminCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("create-admin", flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := dbFlag(fs)
	name := fs.String("name", envOr("RECORDINGS_ADMIN_NAME", "admin"), "account name (env RECORDINGS_ADMIN_NAME)")
	pw := fs.String("password", "", "password (prefer env RECORDINGS_ADMIN_PASSWORD: flags show in ps)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return errors.New("usage: recordings create-admin [-db FILE] [-name NAME] [-password PW]")
	}
	if *pw == "" {
		*pw = os.Getenv("RECORDINGS_ADMIN_PASSWORD")
	}
	if *pw == "" {
		return errors.New("create-admin: a password is required (-password or RECORDINGS_ADMIN_PASSWORD)")
	}
	if err := store.CheckNewPassword(*pw); err != nil {
		return fmt.Errorf("create-admin: %w", err)
	}
	*name = strings.TrimSpace(*name)
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	d, err := store.Open(ctx, *db, log)
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	defer d.Close()
	u, err := d.User(ctx, *name)
	switch {
	case errors.Is(err, store.ErrNotFound):
		if _, err := d.CreateUser(ctx, store.User{Name: *name, DisplayName: "Administrator", Role: store.RoleAdmin}, *pw); err != nil {
			return fmt.Errorf("create-admin: %w", err)
		}
		fmt.Fprintf(stdout, "created administrator %s\n", *name)
	case err != nil:
		return fmt.Errorf("create-admin: %w", err)
	default:
		if u.Role != store.RoleAdmin {
			u.Role = store.RoleAdmin
			if err := d.UpdateUser(ctx, u); err != nil {
				return fmt.Errorf("create-admin: %w", err)
			}
		}
		// SetPassword ends every session of the account, also those of a
		// running service (its websockets close at their next request or
		// push check): whoever knew the old password is out.
		if err := d.SetPassword(ctx, u.Name, *pw); err != nil {
			return fmt.Errorf("create-admin: %w", err)
		}
		if u.Disabled {
			if err := d.SetUserDisabled(ctx, u.Name, false); err != nil {
				return fmt.Errorf("create-admin: %w", err)
			}
		}
		fmt.Fprintf(stdout, "%s exists: made administrator with the new password; its sessions were ended\n", u.Name)
	}
	return nil
}
