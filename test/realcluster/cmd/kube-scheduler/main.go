// kube-scheduler of the pinned release: the same main as the release's
// cmd/kube-scheduler.
package main

import (
	"os"

	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	"k8s.io/kubernetes/cmd/kube-scheduler/app"

	_ "cnimig-agent/test/realcluster/internal/diewithparent" // stops with its launcher
)

func main() {
	os.Exit(cli.Run(app.NewSchedulerCommand()))
}
