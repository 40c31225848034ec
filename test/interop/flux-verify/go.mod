// Present only so that a GOPATH-mode build (GO111MODULE=off) of this program resolves go-git's
// "/v5" import paths against Debian's /usr/share/gocode (Go's minimal module compatibility).
// test/interop/oracles.ts builds it; nothing is downloaded.
module fluxverify

go 1.19
