#!/bin/bash
# Registers the two job definitions and submits an 8-task array job (each task one
# shard: AWS_BATCH_JOB_ARRAY_INDEX is its index, SHARDS the count) and the merge job,
# which waits for the whole array (dependsOn without a type). Replace ACCOUNT and
# fs-EXAMPLE in the JSON files first; the image holds archsim and scenarios/.
#
#   QUEUE=my-fargate-queue deploy/aws-batch/submit.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
queue=${QUEUE:?set QUEUE to your AWS Batch job queue}
shards=${SHARDS:-8}
aws batch register-job-definition --cli-input-json "file://$here/job-definition.json" >/dev/null
aws batch register-job-definition --cli-input-json "file://$here/merge-job-definition.json" >/dev/null
array=$(aws batch submit-job --job-name archsim-sweep --job-queue "$queue" \
    --job-definition archsim-shard --array-properties "size=$shards" \
    --container-overrides "environment=[{name=SHARDS,value=$shards}]" \
    --query jobId --output text)
merge=$(aws batch submit-job --job-name archsim-merge --job-queue "$queue" \
    --job-definition archsim-merge --depends-on "jobId=$array" \
    --query jobId --output text)
echo "array job $array ($shards tasks), merge job $merge"
