//! What AWS enforces and moto does not: each function's requests against the role the SAM template
//! gives it.
//!
//! - [`Recording`] reads what moto received (its recorder, switched on by `scripts/with-moto`): every
//!   request with its headers and body, as it came over the wire. A request names its function in its
//!   user agent (`app/{name}`, see [`orderbridge::caller`]); requests that name none (test set-up,
//!   operators) are no function's.
//! - [`Call`]s are what IAM authorizes, not what the SDK sends: a `TransactWriteItems` is a `PutItem`,
//!   `UpdateItem`, `DeleteItem` or `ConditionCheckItem` per item on that item's table; a
//!   `SendMessageBatch` is `sqs:SendMessage`; a `Query` on an index is authorized on the index's ARN.
//! - [`Roles`] evaluates the template (its intrinsic functions, conditions and parameters) into each
//!   function's allowed statements, with [`deployed_parameters`].
//! - [`check`] holds the two against each other both ways: every call allowed, and every grant used.
//!
//! Resources are named as the template names them: every table the tests create is the `OrdersTable`,
//! a queue whose name ends in `-dlq` is the `SyncDeadLetterQueue`, any other the `SyncQueue`.

use base64::Engine;
use orderbridge::caller::Function;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// The account and region the template is evaluated in.
const ACCOUNT: &str = "123456789012";
const REGION: &str = "us-east-1";

/// The parameters the role test deploys with: every channel on, secrets of both kinds (a reference
/// per kind is enough, each reference's statements being of one shape). `tests/startup.rs` stores
/// these and starts each function with them.
pub fn deployed_parameters() -> BTreeMap<&'static str, &'static str> {
    BTreeMap::from([
        ("GenstoreApiUrl", "https://roles.genmystore.com"),
        ("GenstoreAccessToken", "ssm:/orderbridge/genstore-token"),
        (
            "GenstoreWebhookSecrets",
            "ssm:/orderbridge/webhook-secret,secretsmanager:orderbridge/webhook-secret-next",
        ),
        ("ZonosStoreId", "999"),
        ("ZonosSecret", "secretsmanager:orderbridge/zonos-secret"),
        ("GoogleMerchantId", "123456789"),
        (
            "GoogleServiceAccount",
            "ssm:/orderbridge/google-service-account",
        ),
        ("ShopsParameter", "/orderbridge/shops-list"),
        ("ShopSecretsPath", "/orderbridge/shops/"),
    ])
}

/// One action IAM authorizes, on one resource, for one function.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Call {
    /// The function that sent it.
    pub function: Function,
    /// `service:Action`, as IAM spells it.
    pub action: String,
    /// The resource's ARN.
    pub resource: String,
}

/// What moto received, as [`Call`]s.
#[derive(Debug, Default)]
pub struct Recording {
    /// Every function's calls, once each.
    pub calls: BTreeSet<Call>,
    /// Requests read in all, and those naming a function.
    pub requests: usize,
    /// Of which named a function.
    pub by_functions: usize,
    /// Lines that were not a request moto recorded, or a function's request this reader cannot place.
    pub unreadable: Vec<String>,
}

impl Recording {
    /// Reads moto's recording (one JSON object a line: `headers`, `method`, `url`, `body`,
    /// `body_encoded`).
    pub fn read(text: &str) -> Recording {
        let mut r = Recording::default();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            r.requests = r.requests.saturating_add(1);
            let Ok(entry) = serde_json::from_str::<Value>(line) else {
                r.unreadable.push(short(line));
                continue;
            };
            let header = |name: &str| -> Option<String> {
                entry["headers"].as_object().and_then(|h| {
                    h.iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case(name))
                        .and_then(|(_, v)| v.as_str())
                        .map(str::to_owned)
                })
            };
            let function = ["user-agent", "x-amz-user-agent"]
                .iter()
                .filter_map(|h| header(h))
                .find_map(|ua| Function::in_user_agent(&ua));
            let Some(function) = function else { continue };
            r.by_functions = r.by_functions.saturating_add(1);
            let body = match (entry["body"].as_str(), entry["body_encoded"].as_bool()) {
                (Some(b), Some(true)) => base64::engine::general_purpose::STANDARD
                    .decode(b)
                    .unwrap_or_default(),
                (Some(b), _) => b.as_bytes().to_vec(),
                (None, _) => Vec::new(),
            };
            match calls_of(
                function,
                header("authorization").as_deref(),
                header("x-amz-target").as_deref(),
                &body,
            ) {
                Ok(calls) => r.calls.extend(calls),
                Err(why) => r.unreadable.push(format!("{why}: {}", short(line))),
            }
        }
        r
    }
}

fn short(line: &str) -> String {
    line.chars().take(300).collect()
}

/// The service a request is signed for (`Credential=AKID/date/region/SERVICE/aws4_request`).
fn signed_service(authorization: &str) -> Option<&str> {
    let credential = authorization.split("Credential=").nth(1)?;
    let scope = credential.split([',', ' ']).next()?;
    scope.split('/').nth(3)
}

/// What IAM authorizes for one request.
pub fn calls_of(
    function: Function,
    authorization: Option<&str>,
    target: Option<&str>,
    body: &[u8],
) -> Result<Vec<Call>, String> {
    let service = authorization
        .and_then(signed_service)
        .ok_or("no SigV4 credential scope")?;
    let body: Value = if body.is_empty() {
        json!({})
    } else {
        serde_json::from_slice(body).map_err(|_| "a body that is not JSON".to_owned())?
    };
    let operation = target
        .and_then(|t| t.rsplit('.').next())
        .ok_or("no X-Amz-Target")?;
    let call = |action: String, resource: String| Call {
        function,
        action,
        resource,
    };
    let text = |v: &Value, what: &str| -> Result<String, String> {
        v.as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("{operation} without {what}"))
    };
    Ok(match service {
        "dynamodb" => dynamodb_calls(operation, &body)?
            .into_iter()
            .map(|(action, resource)| call(action, resource))
            .collect(),
        "sqs" => {
            let action = match operation {
                "SendMessageBatch" => "SendMessage",
                "DeleteMessageBatch" => "DeleteMessage",
                "ChangeMessageVisibilityBatch" => "ChangeMessageVisibility",
                other => other,
            };
            let name = match body.get("QueueUrl") {
                Some(url) => text(url, "QueueUrl")?
                    .rsplit('/')
                    .next()
                    .unwrap_or_default()
                    .to_owned(),
                None => text(&body["QueueName"], "QueueUrl or QueueName")?,
            };
            vec![call(format!("sqs:{action}"), queue_arn(&name))]
        }
        "ssm" => vec![call(
            format!("ssm:{operation}"),
            format!(
                "arn:aws:ssm:{REGION}:{ACCOUNT}:parameter{}",
                text(&body["Name"], "Name")?
            ),
        )],
        "secretsmanager" => vec![call(
            format!("secretsmanager:{operation}"),
            // A secret's ARN ends in six characters of its own, which the template's `-??????` allows.
            format!(
                "arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{}-AbCdEf",
                text(&body["SecretId"], "SecretId")?
            ),
        )],
        // CloudWatch's metric calls take no resource.
        "monitoring" => vec![call(format!("cloudwatch:{operation}"), "*".into())],
        other => return Err(format!("a service this check does not know: {other}")),
    })
}

fn dynamodb_calls(operation: &str, body: &Value) -> Result<Vec<(String, String)>, String> {
    let table = |v: &Value| -> Result<String, String> {
        v.as_str()
            .map(|_| table_arn())
            .ok_or_else(|| format!("{operation} without TableName"))
    };
    let on = |action: &str, resource: String| (format!("dynamodb:{action}"), resource);
    Ok(match operation {
        "TransactWriteItems" | "TransactGetItems" => {
            let items = body["TransactItems"]
                .as_array()
                .ok_or("a transaction without TransactItems")?;
            let mut out = Vec::new();
            for item in items {
                for (kind, action) in [
                    ("Put", "PutItem"),
                    ("Update", "UpdateItem"),
                    ("Delete", "DeleteItem"),
                    ("ConditionCheck", "ConditionCheckItem"),
                    ("Get", "GetItem"),
                ] {
                    if let Some(part) = item.get(kind) {
                        out.push(on(action, table(&part["TableName"])?));
                    }
                }
            }
            out
        }
        "BatchGetItem" | "BatchWriteItem" => {
            let tables = body["RequestItems"]
                .as_object()
                .ok_or("a batch without RequestItems")?;
            tables.keys().map(|_| on(operation, table_arn())).collect()
        }
        _ => {
            let mut resource = table(&body["TableName"])?;
            if let Some(index) = body.get("IndexName").and_then(Value::as_str) {
                resource = format!("{resource}/index/{index}");
            }
            vec![on(operation, resource)]
        }
    })
}

fn table_arn() -> String {
    format!("arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/OrdersTable")
}

fn queue_arn(name: &str) -> String {
    let logical = if name.ends_with("-dlq") {
        "SyncDeadLetterQueue"
    } else {
        "SyncQueue"
    };
    format!("arn:aws:sqs:{REGION}:{ACCOUNT}:{logical}")
}

/// One Allow statement of a role, evaluated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// Actions (IAM patterns).
    pub actions: Vec<String>,
    /// Resources (ARN patterns).
    pub resources: Vec<String>,
}

/// Each function's role, evaluated from the template.
#[derive(Debug)]
pub struct Roles {
    /// The Allow statements of each function's role.
    pub grants: BTreeMap<Function, Vec<Grant>>,
}

impl Roles {
    /// Evaluates `template` (JSON, as read from the YAML) with `parameters`.
    pub fn evaluate(template: &Value, parameters: &BTreeMap<&str, &str>) -> Result<Roles, String> {
        let cx = Cx::new(template, parameters)?;
        let mut grants = BTreeMap::new();
        for function in Function::ALL {
            let logical = logical_function(function);
            let role = template["Resources"][logical]["Properties"]["Role"]["Fn::GetAtt"][0]
                .as_str()
                .ok_or(format!("{logical} has no Role: Fn::GetAtt [<role>, Arn]"))?;
            let policies = cx
                .eval(&template["Resources"][role]["Properties"]["Policies"])?
                .unwrap_or(json!([]));
            if !template["Resources"][role]["Properties"]["ManagedPolicyArns"].is_null() {
                return Err(format!(
                    "{role} has managed policies: this check cannot read them"
                ));
            }
            let mut list = Vec::new();
            for policy in policies.as_array().into_iter().flatten() {
                for st in policy["PolicyDocument"]["Statement"]
                    .as_array()
                    .into_iter()
                    .flatten()
                {
                    if st["Effect"] != "Allow" {
                        return Err(format!("{role}: only Allow statements are read: {st}"));
                    }
                    list.push(Grant {
                        actions: strings(&st["Action"]),
                        resources: strings(&st["Resource"]),
                    });
                }
            }
            grants.insert(function, list);
        }
        Ok(Roles { grants })
    }

    /// Whether `call` is allowed by its function's role.
    pub fn allows(&self, call: &Call) -> bool {
        self.grants.get(&call.function).is_some_and(|gs| {
            gs.iter().any(|g| {
                g.actions.iter().any(|a| action_matches(a, &call.action))
                    && g.resources.iter().any(|r| wildcard(r, &call.resource))
            })
        })
    }
}

/// Grants the Lambda service itself uses with a function's role, not the function's code: writing its
/// logs, and for fulfillment-push the SQS trigger (its event source mapping receives, deletes and reads
/// the queue's attributes with the function's role). `check` does not ask the code to use them.
fn platform_uses(function: Function, action: &str, resource: &str) -> bool {
    let logs = matches!(action, "logs:CreateLogStream" | "logs:PutLogEvents");
    let trigger = function == Function::FulfillmentPush
        && matches!(
            action,
            "sqs:ReceiveMessage" | "sqs:DeleteMessage" | "sqs:GetQueueAttributes"
        )
        && resource == queue_arn("sync");
    logs || trigger
}

/// What [`check`] found.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Findings {
    /// Calls no statement of the function's role allows: AWS would refuse them.
    pub refused: Vec<String>,
    /// Action and resource pairs a role allows that its function never used.
    pub unused: Vec<String>,
}

impl Findings {
    /// Nothing found.
    pub fn is_empty(&self) -> bool {
        self.refused.is_empty() && self.unused.is_empty()
    }
}

/// Holds the recorded calls against the roles, both ways.
pub fn check(roles: &Roles, calls: &BTreeSet<Call>) -> Findings {
    let mut f = Findings::default();
    for call in calls.iter().filter(|c| !roles.allows(c)) {
        f.refused.push(format!(
            "{}: {} on {} is not allowed by its role",
            call.function, call.action, call.resource
        ));
    }
    for (function, grants) in &roles.grants {
        for g in grants {
            for action in &g.actions {
                for resource in &g.resources {
                    if platform_uses(*function, action, resource) {
                        continue;
                    }
                    let used = calls.iter().any(|c| {
                        c.function == *function
                            && action_matches(action, &c.action)
                            && wildcard(resource, &c.resource)
                    });
                    if !used {
                        f.unused.push(format!(
                            "{function}: its role allows {action} on {resource}, which it never used"
                        ));
                    }
                }
            }
        }
    }
    f
}

/// The template's logical id of a function.
pub fn logical_function(f: Function) -> &'static str {
    match f {
        Function::WebhookIngest => "WebhookIngestFunction",
        Function::OrderPoller => "OrderPollerFunction",
        Function::FulfillmentPush => "FulfillmentPushFunction",
    }
}

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

fn action_matches(pattern: &str, action: &str) -> bool {
    wildcard(&pattern.to_ascii_lowercase(), &action.to_ascii_lowercase())
}

/// IAM's wildcards: `*` any run of characters, `?` any one.
pub fn wildcard(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0usize, 0usize);
    let (mut star, mut mark) = (None::<usize>, 0usize);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

/// The template's intrinsic functions, evaluated as CloudFormation would for one set of parameters.
struct Cx<'a> {
    template: &'a Value,
    parameters: BTreeMap<String, String>,
}

impl<'a> Cx<'a> {
    fn new(template: &'a Value, given: &BTreeMap<&str, &str>) -> Result<Self, String> {
        let mut parameters = BTreeMap::new();
        for (name, decl) in template["Parameters"].as_object().into_iter().flatten() {
            let value = match given.get(name.as_str()) {
                Some(v) => (*v).to_owned(),
                None => match &decl["Default"] {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    _ => return Err(format!("parameter {name} has no default and was not given")),
                },
            };
            parameters.insert(name.clone(), value);
        }
        for name in given.keys() {
            if !parameters.contains_key(*name) {
                return Err(format!("the template has no parameter {name}"));
            }
        }
        Ok(Cx {
            template,
            parameters,
        })
    }

    fn condition(&self, name: &str) -> Result<bool, String> {
        let c = &self.template["Conditions"][name];
        if c.is_null() {
            return Err(format!("no condition {name}"));
        }
        self.truth(c)
    }

    fn truth(&self, v: &Value) -> Result<bool, String> {
        let (f, args) = single(v).ok_or(format!("not a condition: {v}"))?;
        let list = |n: usize| -> Result<&Vec<Value>, String> {
            args.as_array()
                .filter(|a| n == 0 || a.len() == n)
                .ok_or(format!("{f} takes a list: {args}"))
        };
        match f {
            "Fn::Not" => Ok(!self.truth(&list(1)?[0])?),
            "Fn::And" => list(0)?
                .iter()
                .try_fold(true, |a, c| Ok(a && self.truth(c)?)),
            "Fn::Or" => list(0)?
                .iter()
                .try_fold(false, |a, c| Ok(a || self.truth(c)?)),
            "Fn::Equals" => {
                let a = list(2)?;
                Ok(self.eval(&a[0])? == self.eval(&a[1])?)
            }
            "Condition" => self.condition(args.as_str().ok_or("Condition takes a name")?),
            other => Err(format!("unknown condition function {other}")),
        }
    }

    /// The value of `v`; `None` is `AWS::NoValue`.
    fn eval(&self, v: &Value) -> Result<Option<Value>, String> {
        if let Some((f, args)) = single(v).filter(|(k, _)| k.starts_with("Fn::") || *k == "Ref") {
            return self.intrinsic(f, args);
        }
        Ok(Some(match v {
            Value::Array(items) => {
                let mut out = Vec::new();
                for i in items {
                    if let Some(x) = self.eval(i)? {
                        out.push(x);
                    }
                }
                Value::Array(out)
            }
            Value::Object(m) => {
                let mut out = Map::new();
                for (k, x) in m {
                    if let Some(x) = self.eval(x)? {
                        out.insert(k.clone(), x);
                    }
                }
                Value::Object(out)
            }
            other => other.clone(),
        }))
    }

    fn text(&self, v: &Value) -> Result<String, String> {
        match self.eval(v)? {
            Some(Value::String(s)) => Ok(s),
            Some(Value::Number(n)) => Ok(n.to_string()),
            other => Err(format!("not a string: {v} = {other:?}")),
        }
    }

    fn intrinsic(&self, f: &str, args: &Value) -> Result<Option<Value>, String> {
        let arg = |i: usize| {
            args.get(i)
                .ok_or(format!("{f}: argument {i} missing in {args}"))
        };
        Ok(Some(match f {
            "Ref" => return self.reference(args.as_str().ok_or("Ref takes a name")?),
            "Fn::GetAtt" => {
                let (res, attr) = match args {
                    Value::String(s) => s.split_once('.').ok_or("Fn::GetAtt: Resource.Attr")?,
                    _ => (
                        arg(0)?.as_str().ok_or("Fn::GetAtt")?,
                        arg(1)?.as_str().ok_or("Fn::GetAtt")?,
                    ),
                };
                Value::String(self.attribute(res, attr)?)
            }
            "Fn::If" => {
                let name = arg(0)?.as_str().ok_or("Fn::If takes a condition name")?;
                let pick = if self.condition(name)? { 1 } else { 2 };
                return self.eval(arg(pick)?);
            }
            "Fn::Select" => {
                let i: usize = self
                    .text(arg(0)?)?
                    .parse()
                    .map_err(|_| "Fn::Select: an index".to_owned())?;
                let list = self.eval(arg(1)?)?.ok_or("Fn::Select of nothing")?;
                list.get(i)
                    .cloned()
                    .ok_or(format!("Fn::Select: no item {i} in {list}"))?
            }
            "Fn::Split" => {
                let sep = self.text(arg(0)?)?;
                let s = self.text(arg(1)?)?;
                Value::Array(s.split(sep.as_str()).map(|p| json!(p)).collect())
            }
            "Fn::Join" => {
                let sep = self.text(arg(0)?)?;
                let list = self.eval(arg(1)?)?.ok_or("Fn::Join of nothing")?;
                let parts: Vec<String> = list
                    .as_array()
                    .ok_or("Fn::Join takes a list")?
                    .iter()
                    .map(|p| self.text(p))
                    .collect::<Result<_, _>>()?;
                json!(parts.join(&sep))
            }
            "Fn::Sub" => {
                let (template, vars) = match args {
                    Value::String(s) => (s.clone(), Map::new()),
                    _ => (
                        arg(0)?.as_str().ok_or("Fn::Sub: a string")?.to_owned(),
                        arg(1)?.as_object().cloned().unwrap_or_default(),
                    ),
                };
                json!(self.substitute(&template, &vars)?)
            }
            other => return Err(format!("unknown intrinsic function {other}")),
        }))
    }

    fn substitute(&self, template: &str, vars: &Map<String, Value>) -> Result<String, String> {
        let mut out = String::new();
        let mut rest = template;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after
                .find('}')
                .ok_or(format!("Fn::Sub: unclosed ${{ in {template}"))?;
            let name = &after[..end];
            let value = if let Some(v) = vars.get(name) {
                self.text(v)?
            } else if let Some((res, attr)) = name.split_once('.') {
                self.attribute(res, attr)?
            } else {
                match self.reference(name)? {
                    Some(Value::String(s)) => s,
                    other => return Err(format!("Fn::Sub: ${{{name}}} is {other:?}")),
                }
            };
            out.push_str(&value);
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    fn reference(&self, name: &str) -> Result<Option<Value>, String> {
        Ok(Some(json!(match name {
            "AWS::NoValue" => return Ok(None),
            "AWS::Partition" => "aws".to_owned(),
            "AWS::Region" => REGION.to_owned(),
            "AWS::AccountId" => ACCOUNT.to_owned(),
            "AWS::StackName" => "orderbridge".to_owned(),
            "AWS::URLSuffix" => "amazonaws.com".to_owned(),
            _ => match self.parameters.get(name) {
                Some(v) => v.clone(),
                None if !self.template["Resources"][name].is_null() => name.to_owned(),
                None => return Err(format!("Ref to nothing: {name}")),
            },
        })))
    }

    fn attribute(&self, resource: &str, attr: &str) -> Result<String, String> {
        let kind = self.template["Resources"][resource]["Type"]
            .as_str()
            .ok_or(format!("Fn::GetAtt of no resource: {resource}"))?;
        Ok(match (kind, attr) {
            ("AWS::DynamoDB::Table", "Arn") => table_arn(),
            ("AWS::SQS::Queue", "Arn") => format!("arn:aws:sqs:{REGION}:{ACCOUNT}:{resource}"),
            ("AWS::SQS::Queue", "QueueName") => resource.to_owned(),
            ("AWS::Logs::LogGroup", "Arn") => {
                format!("arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{resource}:*")
            }
            (_, "Arn") => format!("arn:aws:{kind}:{REGION}:{ACCOUNT}:{resource}"),
            _ => return Err(format!("Fn::GetAtt {resource}.{attr}: not known here")),
        })
    }
}

/// The one key of a one-key object, and its value.
fn single(v: &Value) -> Option<(&str, &Value)> {
    let m = v.as_object()?;
    if m.len() != 1 {
        return None;
    }
    m.iter().next().map(|(k, v)| (k.as_str(), v))
}

/// The template as JSON.
pub fn template() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../infra/template.yaml");
    let text = std::fs::read_to_string(path).unwrap_or_default();
    serde_yaml_ng::from_str::<Value>(&text).unwrap_or(Value::Null)
}
