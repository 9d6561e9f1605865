package ingest

// NotifyCheckpointed makes s tell ch the id of every recording whose lazy
// checkpoint render ended. Call it before Run.
func (s *Service) NotifyCheckpointed(ch chan<- int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.checkpointed = ch
}

// Running reports whether Run has started.
func (s *Service) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.runCtx != nil
}
