// Package dynamostore keeps autoscalebot's state and history in one DynamoDB
// table, so that overlapping Lambda invocations agree on who acts.
//
// Table layout (the SAM template creates the same): partition key pk (S),
// sort key sk (S), on-demand, TTL on expiresAt (epoch seconds).
//
//	state item:    pk = "<app>#<processType>", sk = "state", version, app,
//	               processType, and the State's fields as attributes
//	history items: pk as above, sk = "rec#<at>#<kind>#<random>", expiresAt,
//	               and the Record's fields as attributes
//
// <at> is UTC with a fixed nine-digit fraction, so that sort keys order by time.
package dynamostore

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/autoscalebot/autoscalebot/internal/state"
)

// API lists the DynamoDB calls the store makes.
type API interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	Scan(ctx context.Context, in *dynamodb.ScanInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
	BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
}

var _ API = (*dynamodb.Client)(nil)

const (
	// DefaultHistoryTTL is how long history items live when New gets no TTL.
	DefaultHistoryTTL = 30 * 24 * time.Hour
	// MaxHistoryLimit bounds one History call: a month of one-minute ticks
	// (the default TTL) fits, so a history command can reach back that far.
	MaxHistoryLimit = 50_000

	// Attribute names shared with the SAM template and other tools.
	attrPK        = "pk"
	attrSK        = "sk"
	attrVersion   = "version"
	attrExpiresAt = "expiresAt"

	skState   = "state"
	skRecord  = "rec#"
	skRecords = "rec$" // just above every "rec#…" key, as the BETWEEN upper bound

	// Fixed-width RFC 3339: RFC3339Nano drops trailing zeros, and then
	// "…:05Z" would sort after "…:05.5Z".
	skTimeLayout = "2006-01-02T15:04:05.000000000Z"

	batchSize = 25 // BatchWriteItem's limit
	// Unprocessed batch items are resent a bounded number of times.
	batchAttempts = 3
	batchBackoff  = 100 * time.Millisecond
)

// Store is the DynamoDB-backed state store.
type Store struct {
	client API
	table  string
	ttl    time.Duration
}

// New returns a store on table. historyTTL is how long history items are
// kept (DynamoDB deletes them afterwards); zero or less means DefaultHistoryTTL.
func New(client API, table string, historyTTL time.Duration) *Store {
	if historyTTL <= 0 {
		historyTTL = DefaultHistoryTTL
	}
	return &Store{client: client, table: table, ttl: historyTTL}
}

// Items use the json tags of the state package, so the console shows the
// same names as the logs; times are stored as UTC RFC 3339 strings.
func encodeOptions(o *attributevalue.EncoderOptions) {
	o.TagKey = "json"
	o.EncodeTime = func(t time.Time) (types.AttributeValue, error) {
		return &types.AttributeValueMemberS{Value: t.UTC().Format(time.RFC3339Nano)}, nil
	}
}

func decodeOptions(o *attributevalue.DecoderOptions) { o.TagKey = "json" }

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }
func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

func partitionKey(key state.Key) string { return key.App + "#" + key.ProcessType }

// checkKey rejects keys that would be ambiguous in pk.
func checkKey(key state.Key) error {
	if key.App == "" || key.ProcessType == "" {
		return errors.New("empty app or process type")
	}
	if strings.Contains(key.App, "#") || strings.Contains(key.ProcessType, "#") {
		return errors.New(`app and process type must not contain "#"`)
	}
	return nil
}

// Load returns the saved state of key, or the zero State (Version 0) if none
// was saved. The read is strongly consistent, so a Save that follows sees the
// version that Load returned.
func (s *Store) Load(ctx context.Context, key state.Key) (state.State, error) {
	if err := checkKey(key); err != nil {
		return state.State{}, fmt.Errorf("load state %s: %w", key, err)
	}
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            map[string]types.AttributeValue{attrPK: str(partitionKey(key)), attrSK: str(skState)},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return state.State{}, fmt.Errorf("load state %s: %w", key, err)
	}
	if len(out.Item) == 0 {
		return state.State{}, nil
	}
	var st state.State
	if err := attributevalue.UnmarshalMapWithOptions(out.Item, &st, decodeOptions); err != nil {
		return state.State{}, fmt.Errorf("load state %s: decode: %w", key, err)
	}
	return st, nil
}

// Save stores st if the stored version still equals st.Version (or, for
// Version 0, nothing is stored yet), writes Version+1, and returns st with
// the new Version. If another writer got there first the error wraps
// state.ErrConflict and the stored item is left as that writer saved it.
func (s *Store) Save(ctx context.Context, key state.Key, st state.State) (state.State, error) {
	if err := checkKey(key); err != nil {
		return state.State{}, fmt.Errorf("save state %s: %w", key, err)
	}
	item, err := attributevalue.MarshalMapWithOptions(st, encodeOptions)
	if err != nil {
		return state.State{}, fmt.Errorf("save state %s: encode: %w", key, err)
	}
	next := st.Version + 1
	item[attrPK] = str(partitionKey(key))
	item[attrSK] = str(skState)
	item[attrVersion] = num(next)
	// Readable keys for the console and for Keys, beside the opaque pk.
	item["app"] = str(key.App)
	item["processType"] = str(key.ProcessType)

	in := &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item}
	if st.Version == 0 {
		in.ConditionExpression = aws.String("attribute_not_exists(#pk)")
		in.ExpressionAttributeNames = map[string]string{"#pk": attrPK}
	} else {
		in.ConditionExpression = aws.String("#v = :v")
		in.ExpressionAttributeNames = map[string]string{"#v": attrVersion}
		in.ExpressionAttributeValues = map[string]types.AttributeValue{":v": num(st.Version)}
	}
	if _, err := s.client.PutItem(ctx, in); err != nil {
		if _, ok := errors.AsType[*types.ConditionalCheckFailedException](err); ok {
			return state.State{}, fmt.Errorf("save state %s at version %d: %w", key, st.Version, state.ErrConflict)
		}
		return state.State{}, fmt.Errorf("save state %s: %w", key, err)
	}
	st.Version = next
	return st, nil
}

// Append stores history records of key, each expiring historyTTL after its
// At. Records with no App or Type get key's.
func (s *Store) Append(ctx context.Context, key state.Key, recs ...state.Record) error {
	if err := checkKey(key); err != nil {
		return fmt.Errorf("append history %s: %w", key, err)
	}
	writes := make([]types.WriteRequest, 0, len(recs))
	for i, rec := range recs {
		if rec.At.IsZero() {
			return fmt.Errorf("append history %s: record %d has no time", key, i)
		}
		if rec.App == "" {
			rec.App = key.App
		}
		if rec.Type == "" {
			rec.Type = key.ProcessType
		}
		item, err := attributevalue.MarshalMapWithOptions(rec, encodeOptions)
		if err != nil {
			return fmt.Errorf("append history %s: encode: %w", key, err)
		}
		item[attrPK] = str(partitionKey(key))
		item[attrSK] = str(recordSortKey(rec))
		item[attrExpiresAt] = num(rec.At.Add(s.ttl).Unix())
		writes = append(writes, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
	}
	for chunk := range slices.Chunk(writes, batchSize) {
		if err := s.batchWrite(ctx, chunk); err != nil {
			return fmt.Errorf("append history %s: %w", key, err)
		}
	}
	return nil
}

// recordSortKey orders records by time; the random suffix keeps two records
// of the same instant and kind (two overlapping invocations) apart.
func recordSortKey(rec state.Record) string {
	var b [4]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand since Go 1.24)
	return skRecord + rec.At.UTC().Format(skTimeLayout) + "#" + rec.Kind + "#" + hex.EncodeToString(b[:])
}

// batchWrite writes up to 25 items, resending what DynamoDB left unprocessed
// (throttling) a bounded number of times.
func (s *Store) batchWrite(ctx context.Context, writes []types.WriteRequest) error {
	pending := map[string][]types.WriteRequest{s.table: writes}
	for attempt := 1; ; attempt++ {
		out, err := s.client.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: pending})
		if err != nil {
			return err
		}
		left := len(out.UnprocessedItems[s.table])
		if left == 0 {
			return nil
		}
		if attempt == batchAttempts {
			return fmt.Errorf("%d of %d items unprocessed after %d attempts", left, len(writes), attempt)
		}
		pending = out.UnprocessedItems
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(batchBackoff * time.Duration(attempt)):
		}
	}
}

// History returns key's records at or after since, newest first, at most
// limit of them (limit ≤ 0 or above MaxHistoryLimit means MaxHistoryLimit).
func (s *Store) History(ctx context.Context, key state.Key, since time.Time, limit int) ([]state.Record, error) {
	if err := checkKey(key); err != nil {
		return nil, fmt.Errorf("query history %s: %w", key, err)
	}
	if limit <= 0 || limit > MaxHistoryLimit {
		limit = MaxHistoryLimit
	}
	in := &dynamodb.QueryInput{
		TableName:              aws.String(s.table),
		KeyConditionExpression: aws.String("#pk = :pk AND #sk BETWEEN :lo AND :hi"),
		ExpressionAttributeNames: map[string]string{
			"#pk": attrPK,
			"#sk": attrSK,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(partitionKey(key)),
			":lo": str(skRecord + since.UTC().Format(skTimeLayout)),
			":hi": str(skRecords),
		},
		ScanIndexForward: aws.Bool(false),
		ConsistentRead:   aws.Bool(true),
	}
	var recs []state.Record
	for len(recs) < limit {
		in.Limit = aws.Int32(int32(limit - len(recs)))
		out, err := s.client.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("query history %s: %w", key, err)
		}
		for _, item := range out.Items {
			var rec state.Record
			if err := attributevalue.UnmarshalMapWithOptions(item, &rec, decodeOptions); err != nil {
				return nil, fmt.Errorf("query history %s: decode: %w", key, err)
			}
			recs = append(recs, rec)
		}
		if len(out.LastEvaluatedKey) == 0 {
			break
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	return recs, nil
}

// Keys returns every formation that has a saved state, sorted by app and
// process type. It scans the table: meant for status commands, not for ticks.
func (s *Store) Keys(ctx context.Context) ([]state.Key, error) {
	in := &dynamodb.ScanInput{
		TableName:                aws.String(s.table),
		FilterExpression:         aws.String("#sk = :state"),
		ProjectionExpression:     aws.String("#app, #type"),
		ExpressionAttributeNames: map[string]string{"#sk": attrSK, "#app": "app", "#type": "processType"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":state": str(skState),
		},
	}
	var keys []state.Key
	for {
		out, err := s.client.Scan(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("list state keys: %w", err)
		}
		for _, item := range out.Items {
			var k state.Key
			if err := attributevalue.UnmarshalMapWithOptions(item, &k, decodeOptions); err != nil {
				return nil, fmt.Errorf("list state keys: decode: %w", err)
			}
			keys = append(keys, k)
		}
		if len(out.LastEvaluatedKey) == 0 {
			break
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	slices.SortFunc(keys, func(a, b state.Key) int {
		return cmp.Or(strings.Compare(a.App, b.App), strings.Compare(a.ProcessType, b.ProcessType))
	})
	return keys, nil
}
