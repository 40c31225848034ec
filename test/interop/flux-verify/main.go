// flux-verify runs the check Flux's source-controller makes on a GitRepository with
// spec.verify.mode set: go-git's Commit.Verify(armoredKeyRing), which reads the key ring and the
// detached signature with ProtonMail's go-crypto OpenPGP and judges the signature at the current
// time. Like source-controller, it tries each key ring (each value of the verification Secret)
// in turn and accepts the commit when one of them verifies it.
//
// It is a test oracle for pullgate (test/interop/flux.test.ts, docs/agents.md): written for these
// tests, built offline from Debian's golang-github-go-git-go-git-dev and
// golang-github-protonmail-go-crypto-dev packages.
//
// Usage: flux-verify REPO_DIR COMMIT_SHA KEYRING_FILE...
// Prints one JSON line; exits 0 when verified, 1 when refused, 2 on a usage or repository error.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
)

type result struct {
	Verified bool     `json:"verified"`
	Signer   string   `json:"signer,omitempty"`
	KeyIndex int      `json:"keyIndex"`
	Errors   []string `json:"errors"`
}

func main() {
	if len(os.Args) < 4 {
		fmt.Fprintln(os.Stderr, "usage: flux-verify REPO_DIR COMMIT_SHA KEYRING_FILE...")
		os.Exit(2)
	}
	repo, err := git.PlainOpen(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "open repository:", err)
		os.Exit(2)
	}
	commit, err := repo.CommitObject(plumbing.NewHash(os.Args[2]))
	if err != nil {
		fmt.Fprintln(os.Stderr, "read commit:", err)
		os.Exit(2)
	}
	out := result{KeyIndex: -1, Errors: []string{}}
	for i, path := range os.Args[3:] {
		keyRing, err := os.ReadFile(path)
		if err != nil {
			fmt.Fprintln(os.Stderr, "read key ring:", err)
			os.Exit(2)
		}
		entity, err := commit.Verify(string(keyRing))
		if err != nil {
			out.Errors = append(out.Errors, fmt.Sprintf("key ring %d: %v", i, err))
			continue
		}
		out.Verified = true
		out.KeyIndex = i
		out.Signer = strings.ToUpper(fmt.Sprintf("%x", entity.PrimaryKey.Fingerprint))
		break
	}
	encoded, _ := json.Marshal(out)
	fmt.Println(string(encoded))
	if !out.Verified {
		os.Exit(1)
	}
}
