// etcd at the version the pinned Kubernetes release requires in its go.mod
// (and names as kubeadm's DefaultEtcdVersion): the same main as etcd's own.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"

	_ "cnimig-agent/test/realcluster/internal/diewithparent" // stops with its launcher
)

func main() {
	etcdmain.Main(os.Args)
}
