package dynamostore

import (
	"context"

	"github.com/autoscalebot/autoscalebot/internal/awsjson"
)

// Client makes the DynamoDB calls the store needs, and only them. The SDK's
// DynamoDB client links (and builds at start-up) a schema of every
// operation and a table of every endpoint, and its attributevalue package
// DynamoDB Streams' schema too: about 4 ms of each cold start.
type Client struct{ c *awsjson.Client }

// dynamoDB is DynamoDB's JSON protocol. A page of Query or Scan holds up to
// 1 MB of items, which the JSON form can double or more.
var dynamoDB = awsjson.Service{
	Name: "dynamodb", SDKID: "DynamoDB", TargetPrefix: "DynamoDB_20120810", JSONVersion: "1.0",
	MaxAnswer: 16 << 20,
}

// NewClient returns a client for cfg's region, credentials and HTTP client;
// its endpoint is AWS_ENDPOINT_URL_DYNAMODB or AWS_ENDPOINT_URL when cfg
// carries them (see lambdafn.EnvConfig), else DynamoDB's regional endpoint.
func NewClient(cfg awsjson.Config) *Client { return &Client{c: awsjson.New(cfg, dynamoDB)} }

// APIError is an error answer from DynamoDB; Code is its error type, such
// as ConditionalCheckFailedException.
type APIError = awsjson.APIError

// codeConditionFailed is the error code of a write whose condition failed.
const codeConditionFailed = "ConditionalCheckFailedException"

// The requests and answers below carry the members of DynamoDB's API that
// the store uses, under their API names.

// GetItemInput is GetItem's request.
type GetItemInput struct {
	TableName      string
	Key            Item
	ConsistentRead bool `json:",omitempty"`
}

// GetItemOutput is GetItem's answer: Item is empty when there is none.
type GetItemOutput struct{ Item Item }

// PutItemInput is PutItem's request.
type PutItemInput struct {
	TableName                 string
	Item                      Item
	ConditionExpression       string            `json:",omitempty"`
	ExpressionAttributeNames  map[string]string `json:",omitempty"`
	ExpressionAttributeValues Item              `json:",omitempty"`
}

// QueryInput is Query's request.
type QueryInput struct {
	TableName                 string
	KeyConditionExpression    string
	ExpressionAttributeNames  map[string]string `json:",omitempty"`
	ExpressionAttributeValues Item              `json:",omitempty"`
	ScanIndexForward          *bool             `json:",omitempty"` // nil: ascending
	ConsistentRead            bool              `json:",omitempty"`
	Limit                     int32             `json:",omitempty"`
	ExclusiveStartKey         Item              `json:",omitempty"`
}

// ScanInput is Scan's request.
type ScanInput struct {
	TableName                 string
	FilterExpression          string            `json:",omitempty"`
	ProjectionExpression      string            `json:",omitempty"`
	ExpressionAttributeNames  map[string]string `json:",omitempty"`
	ExpressionAttributeValues Item              `json:",omitempty"`
	ExclusiveStartKey         Item              `json:",omitempty"`
}

// Page is a Query's or a Scan's answer: LastEvaluatedKey is set when there
// may be more, from ExclusiveStartKey = LastEvaluatedKey on.
type Page struct {
	Items            []Item
	LastEvaluatedKey Item
}

// BatchWriteItemInput is BatchWriteItem's request: writes by table name.
type BatchWriteItemInput struct {
	RequestItems map[string][]WriteRequest
}

// WriteRequest is one write of a batch; the store only puts.
type WriteRequest struct {
	PutRequest *PutRequest `json:",omitempty"`
}

// PutRequest puts one item.
type PutRequest struct{ Item Item }

// BatchWriteItemOutput is BatchWriteItem's answer: the writes DynamoDB did
// not make (throttled), to be sent again.
type BatchWriteItemOutput struct {
	UnprocessedItems map[string][]WriteRequest
}

// GetItem reads one item.
func (c *Client) GetItem(ctx context.Context, in *GetItemInput) (*GetItemOutput, error) {
	return call[GetItemOutput](ctx, c, "GetItem", in)
}

// PutItem writes one item. A failed condition is an *APIError with Code
// ConditionalCheckFailedException.
func (c *Client) PutItem(ctx context.Context, in *PutItemInput) error {
	_, err := call[struct{}](ctx, c, "PutItem", in)
	return err
}

// Query reads one page of a partition's items.
func (c *Client) Query(ctx context.Context, in *QueryInput) (*Page, error) {
	return call[Page](ctx, c, "Query", in)
}

// Scan reads one page of the table's items.
func (c *Client) Scan(ctx context.Context, in *ScanInput) (*Page, error) {
	return call[Page](ctx, c, "Scan", in)
}

// BatchWriteItem makes up to 25 writes.
func (c *Client) BatchWriteItem(ctx context.Context, in *BatchWriteItemInput) (*BatchWriteItemOutput, error) {
	return call[BatchWriteItemOutput](ctx, c, "BatchWriteItem", in)
}

// call sends op; an answer that DynamoDB is busy or failing, or a
// connection that failed, is tried again a bounded number of times.
func call[Out any](ctx context.Context, c *Client, op string, in any) (*Out, error) {
	out := new(Out)
	if err := c.c.Call(ctx, op, in, out); err != nil {
		return nil, err
	}
	return out, nil
}
