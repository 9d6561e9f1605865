// Package applog is the appliance's logging: one slog.Handler that prints a
// readable process log and also hands the records (Record) to a Sink, the
// database, for the UI, with a trace level per category that can change
// while running. applog imports no other package of the program: the
// store implements Sink, not the other way round.
//
// # Component loggers
//
// The program makes one *slog.Logger (Logger.Slog) and passes it, as it
// is, to every component's constructor. The constructor derives the
// component's logger once, with its category, and logs through it:
//
//	func New(db *store.DB, log *slog.Logger, opt Options) *Service {
//		return &Service{log: log.With("category", applog.Recording), ...}
//	}
//
// Log calls then name no category. A component that logs under a second
// category derives a second logger the same way in its constructor (ingest
// logs analyses under Converting); a single call may instead pass
// "category" itself, which overrides the component's for that record (the
// process log then shows both). Records without a category are System.
// The same "user", "id" and "owner" attributes may be set with With too.
//
// Categories: ingest uploads Recording, its analyses Converting; calls
// Call Information, its start-up licence purge License; retention
// Recording (log pruning System); settings UI (licence count License);
// store System; applog's own reports System; the HTTP layer UI.
package applog

import (
	"fmt"
	"log/slog"
	"strings"
	"sync"
)

// The categories an admin sets trace levels for; records without one are
// "System".
const (
	Recording       = "Recording"
	CallInformation = "Call Information"
	Converting      = "Converting"
	License         = "License"
	UI              = "UI"
	System          = "System"
)

// LevelOff is the level of a category whose traces are switched off: above
// every level a program logs at.
const LevelOff = slog.LevelError + 4

// Categories returns the categories with a settable trace level, in UI order.
func Categories() []string {
	return []string{Recording, CallInformation, Converting, License, UI}
}

// Levels holds the minimum level per category. It is safe for concurrent use.
type Levels struct {
	mu  sync.RWMutex
	m   map[string]slog.Level
	def slog.Level
	min slog.Level // the lowest of all, for Enabled
}

// NewLevels returns levels at def for every category.
func NewLevels(def slog.Level) *Levels {
	return &Levels{m: map[string]slog.Level{}, def: def, min: def}
}

// Set changes the level of one category; it takes effect at once.
func (l *Levels) Set(category string, lvl slog.Level) error {
	c, ok := Canonical(category)
	if !ok {
		return fmt.Errorf("unknown log category %.64q (known: %s)", category, strings.Join(Categories(), ", "))
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.m[c] = lvl
	l.min = l.def
	for _, v := range l.m {
		l.min = min(l.min, v)
	}
	return nil
}

// Level returns the level in force for category.
func (l *Levels) Level(category string) slog.Level {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if v, ok := l.m[category]; ok {
		return v
	}
	return l.def
}

func (l *Levels) lowest() slog.Level {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.min
}

// Canonical returns the category's canonical spelling (matched without
// regard to case) and whether it is known.
func Canonical(c string) (string, bool) {
	for _, k := range Categories() {
		if strings.EqualFold(k, c) {
			return k, true
		}
	}
	if strings.EqualFold(c, System) {
		return System, true
	}
	return "", false
}

// ParseLevel reads a trace level as the admin settings store it: off, error,
// warn, info, debug (any case), or slog's own names such as "INFO+2".
func ParseLevel(s string) (slog.Level, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "off":
		return LevelOff, nil
	case "error":
		return slog.LevelError, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "info":
		return slog.LevelInfo, nil
	case "debug", "trace":
		return slog.LevelDebug, nil
	}
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("trace level %.32q: want off, error, warn, info or debug", s)
	}
	return l, nil
}
