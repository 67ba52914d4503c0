// etcd at the version the pinned Kubernetes release requires in its go.mod
// (and names as kubeadm's DefaultEtcdVersion): the same main as etcd's own.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
