//go:build tools

// Package tools pins VMware's vCenter simulator (vcsim) so `go build` can produce it from the module proxy.
//
// Since govmomi v0.47 vcsim is a module of its own (github.com/vmware/govmomi/vcsim) whose go.mod replaces
// govmomi with a relative path, and the Go module proxy reachable here serves no version of that module
// (404 for tags, 403 "not available" for commits). govmomi v0.46.3 is the newest release whose module still
// contains the vcsim main package, so we build it from there (see build.sh).
package tools

import _ "github.com/vmware/govmomi/vcsim"
