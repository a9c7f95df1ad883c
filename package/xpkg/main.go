// Command xpkg builds provider-docker's Crossplane package and pushes it to a registry.
//
// The package is the provider's runtime image with one more layer holding package.yaml
// (the meta Provider followed by every CRD), as `crossplane xpkg build
// --embed-runtime-image` makes it: Crossplane v2 runs the package's own image as the
// provider. The layer's descriptor carries the annotation io.crossplane.xpkg: base.
//
//	xpkg build -runtime RUNTIME.tar -meta crossplane.yaml -crds DIR -o OUT.xpkg
//	xpkg push -package OUT.xpkg [-ca CA.pem] [-user U -password-file F] REGISTRY/REPO:TAG
//
// RUNTIME.tar is `docker save` of the runtime image. An .xpkg file is a `docker save`
// tarball, which has no place for descriptor annotations; so, as Crossplane does, the
// image config carries a label io.crossplane.xpkg:<layer digest>=base, and push turns
// each such label back into its layer's annotation.
package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/crane"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"sigs.k8s.io/yaml"
)

const (
	annotationKey = "io.crossplane.xpkg"
	baseLayer     = "base"
	packageFile   = "package.yaml"
)

func main() {
	if len(os.Args) < 2 {
		fail(errors.New("usage: xpkg build|push [flags]"))
	}
	var err error
	switch os.Args[1] {
	case "build":
		err = build(os.Args[2:])
	case "push":
		err = push(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q: want build or push", os.Args[1])
	}
	if err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "xpkg:", err)
	os.Exit(1)
}

func build(args []string) error {
	fs := flag.NewFlagSet("build", flag.ExitOnError)
	runtime := fs.String("runtime", "", "`docker save` tarball of the runtime image")
	meta := fs.String("meta", "package/crossplane.yaml", "the meta.pkg.crossplane.io Provider")
	crds := fs.String("crds", "package/crds", "directory of CRD YAML files")
	out := fs.String("o", "target/xpkg/provider-docker.xpkg", "where to write the package")
	tag := fs.String("tag", "provider-docker-xpkg:dev", "the tag recorded in the package tarball")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *runtime == "" {
		return errors.New("build: -runtime is required")
	}
	stream, err := packageYAML(*meta, *crds)
	if err != nil {
		return err
	}
	base, err := tarball.ImageFromPath(*runtime, nil)
	if err != nil {
		return fmt.Errorf("reading the runtime image %s: %w", *runtime, err)
	}
	layer, err := crane.Layer(map[string][]byte{packageFile: stream})
	if err != nil {
		return fmt.Errorf("making the package layer: %w", err)
	}
	digest, err := layer.Digest()
	if err != nil {
		return err
	}
	img, err := mutate.Append(base, mutate.Addendum{
		Layer:       layer,
		Annotations: map[string]string{annotationKey: baseLayer},
		History:     v1.History{CreatedBy: "provider-docker xpkg: " + packageFile, Comment: "xpkg"},
	})
	if err != nil {
		return fmt.Errorf("adding the package layer: %w", err)
	}
	// The label that survives the tarball (see the package doc).
	cfg, err := img.ConfigFile()
	if err != nil {
		return err
	}
	config := *cfg.Config.DeepCopy()
	if config.Labels == nil {
		config.Labels = map[string]string{}
	}
	config.Labels[annotationKey+":"+digest.String()] = baseLayer
	if img, err = mutate.Config(img, config); err != nil {
		return err
	}
	ref, err := name.NewTag(*tag)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(*out), 0o755); err != nil {
		return err
	}
	if err := tarball.WriteToFile(*out, ref, img); err != nil {
		return fmt.Errorf("writing %s: %w", *out, err)
	}
	fmt.Printf("%s: the runtime image and package layer %s (%d bytes of %s)\n", *out, digest, len(stream), packageFile)
	return nil
}

// packageYAML is the meta Provider followed by every CRD in dir (sorted by file name),
// as one YAML stream. Each document must at least parse and name its kind.
func packageYAML(meta, dir string) ([]byte, error) {
	files := []string{meta}
	crds, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	if len(crds) == 0 {
		return nil, fmt.Errorf("no CRDs in %s", dir)
	}
	sort.Strings(crds)
	files = append(files, crds...)
	var stream bytes.Buffer
	for i, f := range files {
		doc, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var head struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
		}
		if err := yaml.Unmarshal(doc, &head); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		want := "CustomResourceDefinition"
		if i == 0 {
			want = "Provider"
		}
		if head.Kind != want {
			return nil, fmt.Errorf("%s: kind %q, want %s", f, head.Kind, want)
		}
		stream.WriteString("---\n")
		stream.Write(bytes.TrimPrefix(bytes.TrimSpace(doc), []byte("---\n")))
		stream.WriteString("\n")
	}
	return stream.Bytes(), nil
}

func push(args []string) error {
	fs := flag.NewFlagSet("push", flag.ExitOnError)
	pkg := fs.String("package", "target/xpkg/provider-docker.xpkg", "the package to push")
	ca := fs.String("ca", "", "PEM file of the CA the registry's certificate is checked against")
	user := fs.String("user", "", "registry user (basic auth); default: the credentials of docker login")
	passwordFile := fs.String("password-file", "", "file holding the registry password")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("push: want exactly one reference, REGISTRY/REPO:TAG")
	}
	ref, err := name.ParseReference(fs.Arg(0))
	if err != nil {
		return err
	}
	img, err := tarball.ImageFromPath(*pkg, nil)
	if err != nil {
		return fmt.Errorf("reading %s: %w", *pkg, err)
	}
	if img, err = annotated(img); err != nil {
		return err
	}
	opts := []remote.Option{}
	if *ca != "" {
		pem, err := os.ReadFile(*ca)
		if err != nil {
			return err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return fmt.Errorf("%s holds no PEM certificate", *ca)
		}
		transport := remote.DefaultTransport.(*http.Transport).Clone()
		transport.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
		opts = append(opts, remote.WithTransport(transport))
	}
	if *user != "" {
		password, err := os.ReadFile(*passwordFile)
		if err != nil {
			return fmt.Errorf("reading the password: %w", err)
		}
		opts = append(opts, remote.WithAuth(&authn.Basic{Username: *user, Password: strings.TrimSpace(string(password))}))
	} else {
		// As docker push does: the credentials of `docker login`.
		opts = append(opts, remote.WithAuthFromKeychain(authn.DefaultKeychain))
	}
	if err := remote.Write(ref, img, opts...); err != nil {
		return fmt.Errorf("pushing to %s: %w", ref, err)
	}
	digest, err := img.Digest()
	if err != nil {
		return err
	}
	fmt.Printf("%s@%s\n", ref.Context(), digest)
	return nil
}

// annotated is img with every layer named by an io.crossplane.xpkg:<digest> config label
// annotated with that label's value. It fails if no layer is the base layer.
func annotated(img v1.Image) (v1.Image, error) {
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	layers, err := img.Layers()
	if err != nil {
		return nil, err
	}
	mediaType, err := img.MediaType()
	if err != nil {
		return nil, err
	}
	adds := make([]mutate.Addendum, 0, len(layers))
	bases := 0
	for _, layer := range layers {
		digest, err := layer.Digest()
		if err != nil {
			return nil, err
		}
		add := mutate.Addendum{Layer: layer}
		if value, ok := cfg.Config.Labels[annotationKey+":"+digest.String()]; ok {
			add.Annotations = map[string]string{annotationKey: value}
			if value == baseLayer {
				bases++
			}
		}
		adds = append(adds, add)
	}
	if bases != 1 {
		return nil, fmt.Errorf("the package has %d layers labelled %s=%s, want 1", bases, annotationKey, baseLayer)
	}
	out, err := mutate.Append(mutate.MediaType(empty.Image, mediaType), adds...)
	if err != nil {
		return nil, err
	}
	// The original config (history, diff IDs, entrypoint, user) as it was.
	return mutate.ConfigFile(out, cfg)
}
