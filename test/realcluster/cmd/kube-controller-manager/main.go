// kube-controller-manager of the pinned release: the same main as the
// release's cmd/kube-controller-manager.
package main

import (
	"os"
	_ "time/tzdata" // CronJob time zones, as upstream

	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	"k8s.io/kubernetes/cmd/kube-controller-manager/app"

	_ "cnimig-agent/test/realcluster/internal/diewithparent" // stops with its launcher
)

func main() {
	os.Exit(cli.Run(app.NewControllerManagerCommand()))
}
