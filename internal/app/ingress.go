package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"

	"recordings/settings"
	"recordings/store"
)

// fixIngress puts the credentials and networks given at start-up in force
// over the stored settings. They are named by their environment variables,
// which is where the admin changes them.
func fixIngress(set *settings.Service, cfg Config) error {
	for _, f := range []struct{ key, value, origin string }{
		{settings.KeyUploadUser, cfg.UploadUser, "RECORDINGS_UPLOAD_USER"},
		{settings.KeyUploadPassword, cfg.UploadPassword, "RECORDINGS_UPLOAD_PASSWORD"},
		{settings.KeyCDRUser, cfg.CDRUser, "RECORDINGS_CDR_USER"},
		{settings.KeyCDRPassword, cfg.CDRPassword, "RECORDINGS_CDR_PASSWORD"},
		{settings.KeyAppPassword, cfg.InstancePassword, "RECORDINGS_INSTANCE_PASSWORD"},
		{settings.KeyDomain, cfg.Domain, "-domain (RECORDINGS_DOMAIN)"},
		{settings.KeyAnonymousNets, cfg.AnonymousNetworks, "-anonymous-networks (RECORDINGS_ANONYMOUS_NETWORKS)"},
	} {
		if err := set.Fix(f.key, f.value, f.origin); err != nil {
			return fmt.Errorf("configuration: %w", err)
		}
	}
	return nil
}

// ensureCredentials generates the upload and CDR credentials and the
// instance password where none is configured, and shows what it generated
// once, on the process log only (log; never the stored log). Where the
// installation has received uploads or CDRs before (an upgrade from a
// version that accepted them without credentials) it says exactly what to
// enter on the phones and the PBX, and the admin app shows it as a problem
// until a device has used the new credentials.
func ensureCredentials(ctx context.Context, db *store.DB, set *settings.Service, log *slog.Logger) error {
	uploads, cdrs, err := db.History(ctx)
	if err != nil {
		return err
	}
	var inUse []string
	if uploads {
		inUse = append(inUse, settings.PendingUpload)
	}
	if cdrs {
		inUse = append(inUse, settings.PendingCDR)
	}
	gen, err := set.EnsureCredentials(ctx, "start-up", inUse...)
	if err != nil || len(gen) == 0 {
		return err
	}
	v := set.Values()
	domain := "<domain>"
	if d := v.DefaultDomain(); d != "" {
		domain = d
	} else if uploads || cdrs {
		if ds, err := db.Domains(ctx, 1); err == nil && len(ds) == 1 {
			domain = ds[0]
		}
	}
	upgrade := false
	base := "http://<server>/" + domain + "/recordings"
	if _, ok := gen[settings.KeyUploadPassword]; ok {
		recordTo := "http://" + url.UserPassword(v.UploadUser, v.UploadPassword).String() + "@<server>/" +
			domain + "/recordings/Files/"
		msg := "generated the upload credentials: phones and gateways must send them (HTTP Basic)"
		if uploads {
			upgrade = true
			msg = "UPGRADE: capture uploads now need credentials, uploads without them are refused (401): set the " +
				"Record-to URL of every recording phone and gateway to the record_to below (or allow the phones' " +
				"networks without credentials: -anonymous-networks)"
		}
		log.Warn(msg, "user", v.UploadUser, "password", v.UploadPassword, "record_to", recordTo)
	}
	if _, ok := gen[settings.KeyCDRPassword]; ok {
		msg := "generated the CDR credentials: the PBX's CDR interface must send them (HTTP Basic)"
		if cdrs {
			upgrade = true
			msg = "UPGRADE: CDRs now need credentials, CDRs without them are refused (401): in the PBX's CDR " +
				"interface (CDR0/CDR1), enter the user and password below for the URL cdr_url"
		}
		log.Warn(msg, "user", v.CDRUser, "password", v.CDRPassword, "cdr_url", base+"/cdr")
	}
	if _, ok := gen[settings.KeyAppPassword]; ok {
		log.Warn("generated the AppLogin instance password: enter it in the PBX's App objects of this service "+
			"(the admin app shows it too, until an administrator confirms having copied it)", "password", v.AppPassword)
	}
	if upgrade {
		log.Warn("the admin app shows the credentials under Settings, PBX integration, and reports them as a " +
			"problem until the phones and the PBX have used them")
	}
	return nil
}
