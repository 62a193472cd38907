// Command etcd runs an etcd server for the end-to-end control plane.
//
// It is etcd's own command-line entry point (go.etcd.io/etcd/server/v3/etcdmain),
// built from the module proxy so that the tests need no downloaded binaries.
// It accepts etcd's usual flags, e.g. --data-dir and --listen-client-urls.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
