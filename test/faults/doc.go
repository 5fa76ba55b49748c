// Package faults holds the fault-matrix tests: each row of docs/operating.md's
// "What happens when things go wrong" table is a named test here that drives
// the real tick code against the real stand-ins (moto, the fake Heroku
// Platform API, httptest heartbeats) with one fault switched on.
package faults
