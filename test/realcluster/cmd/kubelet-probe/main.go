// kubelet-probe stands where a node's kubelet would and records what the
// apiserver sends it: one JSON line per request (method, path, the upgrade
// headers, the verified client certificate's subject), answered 404. The
// realcluster smoke test uses it to pin down how the pinned release proxies
// exec and logs to kubelets, which a fake kubelet must speak.
package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"flag"
	"log"
	"net/http"
	"os"
	"sync"

	_ "cnimig-agent/test/realcluster/internal/diewithparent" // stops with its launcher
)

type record struct {
	Method          string   `json:"method"`
	Path            string   `json:"path"`
	Query           string   `json:"query"`
	Upgrade         string   `json:"upgrade"`
	WebSocketProto  string   `json:"webSocketProtocol"`
	StreamProtocols []string `json:"streamProtocols"`
	ClientCN        string   `json:"clientCN"`
	ClientOrg       []string `json:"clientO"`
}

func main() {
	listen := flag.String("listen", "127.0.1.1:10250", "address to serve TLS on")
	cert := flag.String("cert", "", "serving certificate")
	key := flag.String("key", "", "serving key")
	ca := flag.String("ca", "", "CA that signs client certificates")
	out := flag.String("out", "", "file the JSON lines are appended to")
	flag.Parse()

	pem, err := os.ReadFile(*ca)
	if err != nil {
		log.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		log.Fatalf("no certificate in %s", *ca)
	}
	file, err := os.OpenFile(*out, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		log.Fatal(err)
	}
	var mu sync.Mutex
	encoder := json.NewEncoder(file)

	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := record{
			Method:          r.Method,
			Path:            r.URL.Path,
			Query:           r.URL.RawQuery,
			Upgrade:         r.Header.Get("Upgrade"),
			WebSocketProto:  r.Header.Get("Sec-WebSocket-Protocol"),
			StreamProtocols: r.Header.Values("X-Stream-Protocol-Version"),
		}
		if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
			rec.ClientCN = r.TLS.PeerCertificates[0].Subject.CommonName
			rec.ClientOrg = r.TLS.PeerCertificates[0].Subject.Organization
		}
		mu.Lock()
		err := encoder.Encode(rec)
		mu.Unlock()
		if err != nil {
			log.Print(err)
		}
		http.Error(w, "kubelet-probe records only", http.StatusNotFound)
	})
	server := &http.Server{
		Addr:    *listen,
		Handler: handler,
		TLSConfig: &tls.Config{
			ClientAuth: tls.VerifyClientCertIfGiven,
			ClientCAs:  pool,
			MinVersion: tls.VersionTLS12,
		},
	}
	log.Fatal(server.ListenAndServeTLS(*cert, *key))
}
