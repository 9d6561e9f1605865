package app

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"recordings/applog"
	"recordings/calls"
	"recordings/events"
	"recordings/pbxlink"
	"recordings/store"
)

// setupPBX builds the PBX side: the licence clients, the list of PBX API
// clients run on the App-object connection, and the hub that keeps the
// connections.
func (a *App) setupPBX() {
	licLog := a.Log.With("category", applog.License)
	// The licences (PbxAdminApi): each domain's PBX is asked about its own
	// domain's users, on its own connection.
	a.Licences = pbxlink.NewLicenceSet(pbxlink.LicenceSetOptions{
		Log:    licLog,
		Users:  a.licenceUsers,
		Answer: func(ctx context.Context, ans pbxlink.LicenceAnswer) { a.licenceAnswer(ctx, ans, licLog) },
	})
	sysLog := a.Log.With("category", applog.System)
	// The user table (PbxTableUsers): replicated into the accounts; the
	// matcher re-resolves the recordings of users whose devices or names
	// changed.
	a.PBXUsers = pbxlink.NewUsers(a.DB, pbxlink.UsersOptions{Log: sysLog, Reresolve: a.Calls,
		Observe: a.cfg.Tuning.PBXUsersObserve})
	// The App objects on the PBX (PbxAdminApi): the app-object table
	// follows each domain's PBX's list, in that domain's rows.
	a.AppObjects = pbxlink.NewAppObjects(pbxlink.AppObjectsOptions{Log: sysLog,
		Synced: func(ctx context.Context, domain string, objs []pbxlink.AppObject) error {
			return a.appObjectsSynced(ctx, domain, objs, sysLog)
		}})
	// The PBX API clients (several may share an api). A new one is one
	// more entry here: in clients when it runs on the newest connection of
	// any domain, in PerDomain when each domain's PBX needs its own
	// (docs/pbx.md, Domains).
	// Every client is per domain today; Clients stays for one that is not.
	a.PBX = pbxlink.NewHub(pbxlink.Options{
		Log: sysLog,
		Now: a.cfg.Tuning.Now,
		PerDomain: func(domain string) []pbxlink.Client {
			return []pbxlink.Client{a.PBXUsers.ForDomain(domain), a.AppObjects.ForDomain(domain), a.Licences.ForDomain(domain)}
		},
		Expected: a.Settings.PBXExpected,
		Domains:  func() []string { return a.Settings.Values().Domains },
		Seen: func(domain string) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := a.Settings.PBXSeen(ctx, domain); err != nil {
				sysLog.Warn("remember the PBX", "domain", domain, "err", err)
			}
		},
		InfoTimeout: a.cfg.Tuning.PbxInfoTimeout,
	})
}

// appObjectsSynced makes the app-object rows of domain the cache of its
// PBX's list (another domain's rows stay as they are).
func (a *App) appObjectsSynced(ctx context.Context, domain string, objs []pbxlink.AppObject, log *slog.Logger) error {
	rows := make([]store.PBXAppObject, 0, len(objs))
	for _, o := range objs {
		rows = append(rows, store.PBXAppObject{Name: o.Name, Title: o.Title, Type: o.Type, GUID: o.GUID, URL: o.URL,
			Connected: o.Connected})
	}
	created, missing, err := a.DB.SyncAppObjects(ctx, domain, rows)
	if err != nil {
		return fmt.Errorf("cache the PBX's app objects: %w", err)
	}
	log.Info("app objects read from the PBX", "domain", domain, "on_pbx", len(rows), "new", created, "missing_on_pbx", missing)
	if a.API != nil {
		a.API.RightsChanged()
	}
	return nil
}

// licenceUsers are the users whose licence the PBX of domain is asked
// about: the accounts and the owners of recordings; with several domains
// configured, the accounts of that domain and of none, and the owners of
// that domain's recordings.
func (a *App) licenceUsers(ctx context.Context, domain string) ([]string, error) {
	if v := a.Settings.Values(); len(v.Domains) < 2 {
		domain = ""
	}
	us, err := a.DB.Users(ctx)
	if err != nil {
		return nil, err
	}
	us = slices.DeleteFunc(us, func(u store.User) bool { return !store.InDomain(u.Domain, domain) })
	owners, err := a.DB.RecordingOwnersIn(ctx, domain)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []string
	for _, n := range owners {
		if k := store.NameKey(n); !seen[k] {
			seen[k] = true
			out = append(out, n)
		}
	}
	for _, u := range us {
		if k := store.NameKey(u.Name); !seen[k] {
			seen[k] = true
			out = append(out, u.Name)
		}
	}
	return out, nil
}

// licenceAnswer applies a complete licence answer of a connected PBX: the
// accounts' licence flags follow it, and the first answer after the start
// purges the recordings of the owners the PBX says hold no licence (the
// restart purge; never without such an answer).
//
// With several domains configured, an answer counts for the domain of the
// PBX that gave it only: the flags of that domain's accounts (and of those
// of no domain), the purge of that domain's recordings, once per domain
// (docs/pbx.md, Domains). With one domain or none, as before.
func (a *App) licenceAnswer(ctx context.Context, ans pbxlink.LicenceAnswer, log *slog.Logger) {
	domain := ""
	if v := a.Settings.Values(); len(v.Domains) > 1 {
		d, ok := v.ServedDomain(ans.Domain)
		if !ok {
			log.Warn("licences from a PBX of a domain this instance does not serve: not applied", "domain", ans.Domain)
			return
		}
		domain = d
	}
	if n, err := a.DB.SetLicensedByPBXIn(ctx, domain, ans.Licensed); err != nil {
		log.Error("licences from the PBX: update accounts", "err", err)
	} else if n > 0 {
		log.Info("licences from the PBX: accounts changed", "changed", n, "domain", domain)
	}
	if domain != "" {
		if !a.purgeDue.Load() {
			return
		}
		if _, done := a.purged.LoadOrStore(domain, true); done {
			return
		}
	} else if !a.purgeDue.CompareAndSwap(true, false) {
		return
	}
	var unlicensed []string
	for u, ok := range ans.Licensed {
		if !ok {
			unlicensed = append(unlicensed, u)
		}
	}
	slices.Sort(unlicensed)
	deleted, kept, err := a.DB.PurgeOwnersIn(ctx, domain, unlicensed)
	if err != nil {
		// Try again on the next answer.
		if domain != "" {
			a.purged.Delete(domain)
		} else {
			a.purgeDue.Store(true)
		}
		log.Error("licence purge", "err", err)
		return
	}
	for _, p := range deleted {
		log.Warn("deleted recording of a user without licence", "recording", p.ID, "domain", p.Domain, "name", p.Name,
			"owner", p.Owner)
		a.Events.Publish(events.Recording{Kind: events.Deleted, ID: p.ID, By: events.ByPBX})
	}
	lvl := slog.LevelInfo
	if len(deleted) > 0 {
		lvl = slog.LevelWarn
	}
	log.Log(ctx, lvl, "licence purge on the PBX's answer: deleted recordings of users without licence",
		"deleted", len(deleted), "kept_protected", kept, "unlicensed_users", len(unlicensed), "domain", ans.Domain,
		"licences", ans.Count, "used", ans.Used)
	if len(deleted) > 0 {
		if err := a.DB.IncrementalVacuum(ctx); err != nil {
			log.Warn("vacuum after licence purge", "err", err)
		}
	}
}

// purgeLicences runs the start-up licence purge where the licences are
// typed in; where they come from the PBX it waits for its answer.
func (a *App) purgeLicences(ctx context.Context) error {
	if a.Settings.PBXExpected() {
		a.purgeDue.Store(true)
		a.Log.Info("licences come from the PBX: recordings of users without licence are deleted once the connected "+
			"PBX has answered the licence check, never without its answer", "category", applog.License)
		return nil
	}
	if _, err := calls.PurgeUnlicensed(ctx, a.DB, a.Log); err != nil {
		return fmt.Errorf("licence purge: %w", err)
	}
	return nil
}
