package fcgi

import "time"

// handlerJob is one request for a handler goroutine.
type handlerJob struct {
	c *serverConn
	r *serverReq
}

// workerIdle is how long a handler goroutine waits for another request
// before it exits.
const workerIdle = 10 * time.Second

// dispatch runs j on an idle handler goroutine, or on a new one. Handler
// goroutines outlive their requests and connections, and so do their
// grown stacks: starting a goroutine per request, whose stack then grows
// again through the handler, is a measurable part of a short request
// (docs/benchmarks.md).
func (s *Server) dispatch(j handlerJob) {
	select {
	case s.jobs <- j:
	default:
		go s.worker(j)
	}
}

// worker runs j, then further jobs until it has been idle for workerIdle
// (up to twice that: the timer is not reset for every job, which would
// cost a runtime timer update per request) or the server closes.
func (s *Server) worker(j handlerJob) {
	done := s.doneChan()
	t := time.NewTimer(workerIdle)
	defer t.Stop()
	for {
		j.c.finish(j.r)
		j = handlerJob{}
		if !s.nextJob(&j, t, done) {
			return
		}
	}
}

// nextJob waits for the next job into *j; false means none came within a
// full period of t, or the server closed. A period of t in which the
// worker ran jobs re-arms it.
func (s *Server) nextJob(j *handlerJob, t *time.Timer, done <-chan struct{}) bool {
	busy := true // a job ran since t was armed
	for {
		select {
		case *j = <-s.jobs:
			return true
		case <-t.C:
			if !busy {
				return false
			}
			busy = false
			t.Reset(workerIdle)
		case <-done:
			return false
		}
	}
}
