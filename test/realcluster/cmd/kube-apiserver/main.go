// kube-apiserver of the pinned release, built as a library consumer: the same
// main as the release's cmd/kube-apiserver.
package main

import (
	"os"
	_ "time/tzdata" // CronJob time zones, as upstream

	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"

	_ "cnimig-agent/test/realcluster/internal/diewithparent" // stops with its launcher
)

func main() {
	os.Exit(cli.Run(app.NewAPIServerCommand()))
}
