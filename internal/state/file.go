package state

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"
)

// fileHistoryLimit bounds the records kept per formation in a state file.
const fileHistoryLimit = 1000

// FileStore keeps state and history in one JSON file, for running
// autoscalebot outside AWS. Writes are atomic (temp file, fsync, rename), so
// a crash leaves the previous state or the new one, never half of each.
// It serialises writers within one process; run one local autoscaler per file.
type FileStore struct {
	path string
	mu   sync.Mutex
}

// fileData is the file's layout.
type fileData struct {
	Formations map[string]*fileFormation `json:"formations"`
}

type fileFormation struct {
	Key     Key      `json:"key"`
	State   State    `json:"state"`
	Records []Record `json:"records,omitempty"` // oldest first
}

// NewFileStore returns a store backed by the file at path, created on first save.
func NewFileStore(path string) *FileStore { return &FileStore{path: path} }

// Load returns the saved state of key, or the zero State if there is none.
func (f *FileStore) Load(_ context.Context, key Key) (State, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	data, err := f.read()
	if err != nil {
		return State{}, err
	}
	if fm := data.Formations[key.String()]; fm != nil {
		return fm.State, nil
	}
	return State{}, nil
}

// Save writes s if the stored version is still s.Version, and returns it with
// the next version.
func (f *FileStore) Save(_ context.Context, key Key, s State) (State, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	data, err := f.read()
	if err != nil {
		return State{}, err
	}
	fm := data.formation(key)
	if fm.State.Version != s.Version {
		return State{}, fmt.Errorf("save state %s: %w", key, ErrConflict)
	}
	s.Version++
	fm.State = s
	if err := f.write(data); err != nil {
		return State{}, err
	}
	return s, nil
}

// Append adds history records, dropping the oldest past the file's limit.
func (f *FileStore) Append(_ context.Context, key Key, recs ...Record) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	data, err := f.read()
	if err != nil {
		return err
	}
	fm := data.formation(key)
	fm.Records = append(fm.Records, recs...)
	if extra := len(fm.Records) - fileHistoryLimit; extra > 0 {
		fm.Records = append([]Record(nil), fm.Records[extra:]...)
	}
	return f.write(data)
}

// History returns key's records at or after since, newest first, at most limit.
func (f *FileStore) History(_ context.Context, key Key, since time.Time, limit int) ([]Record, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	data, err := f.read()
	if err != nil {
		return nil, err
	}
	fm := data.Formations[key.String()]
	if fm == nil {
		return nil, nil
	}
	var out []Record
	for i := len(fm.Records) - 1; i >= 0 && (limit <= 0 || len(out) < limit); i-- {
		if !fm.Records[i].At.Before(since) {
			out = append(out, fm.Records[i])
		}
	}
	return out, nil
}

// Keys lists the formations that have state, sorted.
func (f *FileStore) Keys(_ context.Context) ([]Key, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	data, err := f.read()
	if err != nil {
		return nil, err
	}
	keys := make([]Key, 0, len(data.Formations))
	for _, fm := range data.Formations {
		keys = append(keys, fm.Key)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
	return keys, nil
}

func (d *fileData) formation(key Key) *fileFormation {
	fm := d.Formations[key.String()]
	if fm == nil {
		fm = &fileFormation{Key: key}
		d.Formations[key.String()] = fm
	}
	return fm
}

func (f *FileStore) read() (*fileData, error) {
	data := &fileData{Formations: map[string]*fileFormation{}}
	raw, err := os.ReadFile(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		return data, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read state file: %w", err)
	}
	if err := json.Unmarshal(raw, data); err != nil {
		return nil, fmt.Errorf("read state file %s: %w", f.path, err)
	}
	if data.Formations == nil {
		data.Formations = map[string]*fileFormation{}
	}
	return data, nil
}

func (f *FileStore) write(data *fileData) (err error) {
	raw, err := json.MarshalIndent(data, "", "  ")
	if err != nil {
		return fmt.Errorf("encode state: %w", err)
	}
	dir := filepath.Dir(f.path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write state file: %w", err)
	}
	tmp, err := os.CreateTemp(dir, filepath.Base(f.path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("write state file: %w", err)
	}
	defer func() {
		if err != nil {
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(raw); err != nil {
		tmp.Close()
		return fmt.Errorf("write state file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("sync state file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write state file: %w", err)
	}
	if err := os.Rename(tmp.Name(), f.path); err != nil {
		return fmt.Errorf("replace state file: %w", err)
	}
	// Make the rename itself durable; not every platform can sync a directory.
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
