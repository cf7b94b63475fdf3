// Package static holds the stylesheet, script and icon the pages use, embedded into the binary
// so that the explorer works on a network without internet (no CDN, nothing fetched at run time).
package static

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
)

//go:embed style.css app.js favicon.svg
var files embed.FS

// FS is the embedded assets, by file name ("style.css", "app.js", "favicon.svg").
var FS fs.FS = files

// Version is a short hash of every embedded asset. Pages ask for "/static/<name>?v=<Version>",
// so that assets can be cached for a long time and a new build is still picked up at once.
var Version = func() string {
	h := sha256.New()
	for _, name := range []string{"style.css", "app.js", "favicon.svg"} {
		b, err := files.ReadFile(name)
		if err != nil {
			panic("static: " + err.Error()) // the embed directive above guarantees the files
		}
		h.Write([]byte(name))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}()
