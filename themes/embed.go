// Package themes embeds the themes that ship with Parvis.
package themes

import (
	"embed"
	"io/fs"
)

//go:embed all:default
var files embed.FS

// Default returns the default theme: layouts/, i18n/ and static/ at its root.
func Default() fs.FS {
	sub, err := fs.Sub(files, "default")
	if err != nil {
		panic(err) // the folder is embedded above
	}
	return sub
}
